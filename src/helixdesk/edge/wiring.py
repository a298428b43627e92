"""The pieces the container is built from that stand on their own: the pack's configuration read
once (`PackConfig`), the event bus and NLU pipeline the settings name, the WeChat channel, and how an
approved agent insight joins the knowledge base. Commands and benchmarks that need one piece import
it from here without building a whole `Container`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.policies import ActionPolicies, load_action_policies
from helixdesk.actions.registry import registered_actions
from helixdesk.audit import AuditLog
from helixdesk.bank.connector import BankConnector
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.nats_jetstream import NatsJetStreamEventBus
from helixdesk.bus.protocol import EventBus
from helixdesk.bus.redis_streams import RedisStreamsEventBus
from helixdesk.channels.wechat.binding import Binder
from helixdesk.channels.wechat.channel import WeChatChannel
from helixdesk.channels.wechat.config import accounts_from_settings, replay_guard_from_settings
from helixdesk.channels.wechat.media import PictureFetcher
from helixdesk.channels.wechat.store import WeChatStore
from helixdesk.channels.wechat.voice import WeChatVoice
from helixdesk.conversations.images import ImageMessages
from helixdesk.conversations.service import ConversationService
from helixdesk.conversations.voice import VoiceMessages
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.settings import Settings
from helixdesk.dialogue.flows.base import DialogueConfig
from helixdesk.dialogue.policy import load_policies
from helixdesk.edge.i18n import value_labels
from helixdesk.handoff.drafts import DraftIngest
from helixdesk.handoff.models import KnowledgeDraft
from helixdesk.handoff.packet import Labels
from helixdesk.handoff.policy import HandoffPolicy, load_handoff_policy
from helixdesk.identity import VerificationService
from helixdesk.knowledge.ingest import ingest_entry
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.knowledge.versions import Editor
from helixdesk.lifecycle.suitability import load_suitability
from helixdesk.nlg.personalise import load_tips
from helixdesk.nlg.style import StylePolicy
from helixdesk.nlg.templates import Templates
from helixdesk.nlu.embeddings import embed
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.packs.loader import Pack


@dataclass(frozen=True, slots=True)
class PackConfig:
    """The pack's configuration, each file read and validated once."""

    pack: Pack
    dialogue: DialogueConfig
    handoff: HandoffPolicy
    templates: Templates
    labels: Labels
    actions: ActionPolicies

    @classmethod
    def load(
        cls, pack: Pack, *, code_length: int, timezone: str | None = None, handoff_policy: Path | None = None
    ) -> PackConfig:
        templates = Templates.load(pack.path / "nlg" / "templates")
        # The setting's policy file stands in for the pack's (a bank's own queues and SLAs).
        handoff = load_handoff_policy(handoff_policy or pack.path / "handoff" / "policy.yaml")
        dialogue = DialogueConfig(
            policies=load_policies(pack.path / "dialogue" / "policies.yaml"),
            style=StylePolicy.load(pack.path / "nlg" / "style.yaml"),
            tips=load_tips(pack.path / "nlg" / "tips.yaml"),
            suitability=load_suitability(pack),
            code_length=code_length,
            triggers=handoff.triggers,
            public_actions=frozenset(
                n for n, spec in registered_actions().items() if not spec.needs_customer
            ),
        )
        labels = Labels.load(pack.path / "handoff" / "labels.yaml", defaults=value_labels())
        actions = load_action_policies(pack, timezone=timezone)  # the setting overrides the pack's zone
        templates.tz = actions.bank.tz  # replies show the bank's local time
        return cls(
            pack=pack,
            dialogue=dialogue,
            handoff=handoff,
            templates=templates,
            labels=labels,
            actions=actions,
        )


def build_wechat(
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    writer: ConversationWriter,
    identity: VerificationService,
    bank: BankConnector,
    audit: AuditLog,
    conversations: ConversationService,
    images: ImageMessages,
    voice: VoiceMessages | None = None,
) -> WeChatChannel:
    store = WeChatStore(sessions=sessions, writer=writer)
    return WeChatChannel(
        accounts=accounts_from_settings(settings),
        store=store,
        binder=Binder(sessions=sessions, store=store, identity=identity, bank=bank, audit=audit),
        conversations=conversations,
        reply_budget_seconds=settings.wechat_reply_budget_seconds,
        replay=replay_guard_from_settings(settings),
        images=images,
        pictures=PictureFetcher(
            max_bytes=settings.image_max_bytes, picture_hosts=settings.wechat_picture_hosts.split(",")
        ),
        voice=(None if voice is None else WeChatVoice(voice=voice, conversations=conversations, store=store)),
    )


def build_bus(settings: Settings) -> EventBus:
    if settings.event_bus == "redis":
        return RedisStreamsEventBus(
            url=settings.redis_url,
            stream=settings.redis_stream,
            retention_seconds=settings.bus_retention_hours * 3600,
        )
    if settings.event_bus == "nats":
        return NatsJetStreamEventBus(
            servers=[u.strip() for u in settings.nats_url.split(",") if u.strip()],
            stream=settings.nats_stream,
            subject=f"{settings.nats_stream.lower()}.events",
            replicas=settings.nats_replicas,
            retention_seconds=settings.bus_retention_hours * 3600,
        )
    return MemoryEventBus()


def build_nlu(settings: Settings, pack: Pack) -> NLUPipeline:
    return NLUPipeline.from_config(pack.nlu_pipeline, defaults={"model_root": settings.model_dir})


def draft_ingester(sessions: sessionmaker[Session], knowledge: KnowledgeBase) -> DraftIngest:
    """Approved agent insights join the knowledge base as one entry each, searchable at once."""

    def ingest_draft(draft: KnowledgeDraft) -> str:
        source = f"agent-insight:{draft.id}"
        ingest_entry(
            sessions,
            source=source,
            title="坐席经验 Agent insight",
            faq_id=f"insight-{draft.id[:8]}",
            question=draft.question,
            answer=draft.answer,
            language=draft.language,
            intents=[draft.intent] if draft.intent else [],
            alternatives=draft.alternatives or (),
            embed=embed,
            by=Editor(draft.reviewer_id or "system:drafts", "draft approval"),
        )
        knowledge.load()
        return source

    return ingest_draft
