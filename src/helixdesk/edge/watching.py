"""The parts of the container that watch and learn from conversations: live quality checks and
alerts, QA review and coaching, insight and feedback, analytics and drift, the labelling queue and
the model registry. Each reads what the conversation side stored; none of them is on a customer's
turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.analytics.metrics import CostModel
from helixdesk.analytics.service import AnalyticsReader
from helixdesk.audit import AuditLog
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.settings import Settings
from helixdesk.drift.board import DriftBoard
from helixdesk.edge.wiring import PackConfig
from helixdesk.handoff.drafts import KnowledgeDrafts
from helixdesk.insight.feed import load_products
from helixdesk.insight.feedback import FeedbackInbox
from helixdesk.insight.proposals import Proposals
from helixdesk.insight.service import Insight
from helixdesk.learning.datasets import Datasets
from helixdesk.learning.labels import Vocabulary
from helixdesk.learning.queue import Labelling
from helixdesk.learning.registry import ModelRegistry
from helixdesk.learning.watch import LiveModelWatch
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.llm.assistant import Assistant
from helixdesk.nlu.batcher import Parser
from helixdesk.quality.coaching import StaffQuality
from helixdesk.quality.coaching_guide import CoachingGuide
from helixdesk.quality.live import AlertBoard, DraftCheck
from helixdesk.quality.review import QualityReview
from helixdesk.quality.rules import RuleBook
from helixdesk.simulation.practice import TrainingRoom
from helixdesk.simulation.training import load_practice_customers

Part = Callable[[str, Callable[[], Any]], Any]
"""`Container.build`'s `part(name, make)`: the override named `name`, or what `make` builds."""


def build_watchers(
    part: Part,
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    audit: AuditLog,
    config: PackConfig,
    parser: Parser,
    writer: ConversationWriter,
    drafts: KnowledgeDrafts,
    llm: Assistant | None,
    quality_rules: RuleBook,
) -> None:
    part("draft_check", lambda: DraftCheck(sessions=sessions, book=quality_rules))
    part("alert_board", lambda: AlertBoard(sessions=sessions, book=quality_rules))
    part(
        "training",
        lambda: TrainingRoom(
            sessions=sessions, customers=load_practice_customers(config.pack), book=quality_rules
        ),
    )
    part(
        "qa_review",
        lambda: QualityReview(
            sessions=sessions,
            audit=audit,
            sample_percent=settings.qa_review_sample_percent,
            tz=config.actions.bank.tz,
            assistant=llm,
        ),
    )
    part(
        "staff_quality",
        lambda: StaffQuality(
            sessions=sessions,
            guide=CoachingGuide.for_pack(config.pack.path),
            audit=audit,
            tz=config.actions.bank.tz,
        ),
    )
    part("insight", lambda: Insight(sessions=sessions))
    part(
        "analytics",
        lambda: AnalyticsReader(
            sessions=sessions,
            tz=config.actions.bank.tz,
            cost=CostModel.from_settings(settings),
            labels=config.labels,
            reports_dir=settings.analytics_reports_dir,
            churn=load_lifecycle_config(config.pack).churn,
        ),
    )
    part("drift_board", lambda: DriftBoard(sessions=sessions))
    part("proposals", lambda: Proposals(sessions=sessions, drafts=drafts, audit=audit))
    part(
        "feedback",
        lambda: FeedbackInbox(
            sessions=sessions,
            parser=parser,
            mask=lambda text: writer.privacy.mask(text).text,
            products=load_products(config.pack.path),
        ),
    )
    part(
        "labelling",
        lambda: Labelling(sessions=sessions, vocabulary=Vocabulary.for_pack(config.pack.path), audit=audit),
    )
    part("datasets", lambda: Datasets(sessions=sessions, audit=audit))
    registry = part("registry", lambda: ModelRegistry.from_settings(settings, sessions, audit))
    part(
        "model_watch",
        lambda: LiveModelWatch(registry=registry, parser=parser, every=settings.learning_reload_seconds),
    )
