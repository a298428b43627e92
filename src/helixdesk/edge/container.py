"""Builds every long-lived object of a running Helixdesk from one `Settings` (no import-time singletons).

    container = Container.build(settings)                    # the real wiring
    container = Container.build(settings, bus=my_bus)        # the same, with one part replaced

Routes never take the whole container: `helixdesk.edge.deps` hands each route the one service it
uses. `start` warms the models and starts the background work (the event bus, the outbox relay, the
NLU thread); `stop` ends it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.abuse import AbuseLimits
from helixdesk.actions.rates import RateService
from helixdesk.actions.runner import ActionRunner
from helixdesk.agents.service import AgentDirectory
from helixdesk.analytics.service import AnalyticsReader
from helixdesk.audit import Actor, AuditLog
from helixdesk.audit.keys import resolve_audit_key
from helixdesk.audit.service import AuditSearch
from helixdesk.auth.apikeys import ApiKeys
from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.connector import BankConnector
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bus.consumer import DurableConsumer
from helixdesk.bus.protocol import EventBus
from helixdesk.bus.relay import OutboxRelay
from helixdesk.channels.phone.call import PhoneDesk
from helixdesk.channels.phone.config import call_config
from helixdesk.channels.phone.menu import VoiceMenu
from helixdesk.channels.social.channel import SocialChannel
from helixdesk.channels.wechat.channel import WeChatChannel
from helixdesk.channels.wechat.outbound import outbound_consumer
from helixdesk.conversations.earlier import EarlierConversations
from helixdesk.conversations.images import ImageMessages
from helixdesk.conversations.ratings import Ratings
from helixdesk.conversations.service import ConversationService
from helixdesk.conversations.turns import Turns
from helixdesk.conversations.voice import VoiceMessages
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.secrets import resolve_secret_key
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.dialogue.bot import Bot
from helixdesk.dialogue.decide import Decider
from helixdesk.dialogue.executor import Executor
from helixdesk.drift.board import DriftBoard
from helixdesk.edge.live import LiveHub
from helixdesk.edge.social_wiring import build_social, social_consumer
from helixdesk.edge.watching import build_watchers
from helixdesk.edge.wiring import PackConfig, build_bus, build_nlu, build_wechat, draft_ingester
from helixdesk.handoff.claiming import Claims
from helixdesk.handoff.common import Desk
from helixdesk.handoff.disclosure import Disclosure
from helixdesk.handoff.drafts import KnowledgeDrafts
from helixdesk.handoff.follow_up import FollowUps
from helixdesk.handoff.goodwill import Goodwill, load_goodwill_policy
from helixdesk.handoff.hand_back import HandBack
from helixdesk.handoff.queue_view import QueueView
from helixdesk.handoff.queueing import Queueing
from helixdesk.handoff.transfer import Transfers
from helixdesk.handoff.whisper import Whispers
from helixdesk.handoff.workspace import AgentWorkspace
from helixdesk.handoff.wrap_up import WrapUp
from helixdesk.identity import VerificationService, load_identity_policy
from helixdesk.incidents.register import IncidentRegister
from helixdesk.insight.feedback import FeedbackInbox
from helixdesk.insight.proposals import Proposals
from helixdesk.insight.service import Insight
from helixdesk.insight.spikes import SpikeSuggestions, hotspot_known
from helixdesk.knowledge.graph import KnowledgeGraph
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.knowledge.uploads import UploadJobs
from helixdesk.knowledge.workspace import KnowledgeWorkspace
from helixdesk.learning.datasets import Datasets
from helixdesk.learning.queue import Labelling
from helixdesk.learning.registry import ModelRegistry
from helixdesk.learning.watch import LiveModelWatch
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.store import StrategyStore
from helixdesk.lifecycle.strategies import load_strategies
from helixdesk.lifecycle.touches import TouchReader
from helixdesk.llm.assistant import Assistant, build_assistant
from helixdesk.nlg.replies import ReplyWriter
from helixdesk.nlu.batcher import ParseBatcher, Parser
from helixdesk.nlu.embeddings import embed
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.nlu.process import ProcessParser
from helixdesk.notifications import OutboxNotifier
from helixdesk.notifications.notifier import OutboxReader
from helixdesk.notifications.optouts import OptOuts
from helixdesk.ocr.reader import OcrReader
from helixdesk.outreach.campaign_rules import load_campaign_config
from helixdesk.outreach.campaigns import Campaigns
from helixdesk.packs.loader import Pack, load_pack
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.keys import resolve_keyring
from helixdesk.privacy.transcripts import TranscriptPrivacy
from helixdesk.quality.coaching import StaffQuality
from helixdesk.quality.live import AlertBoard, DraftCheck
from helixdesk.quality.model import load_if_trained
from helixdesk.quality.review import QualityReview
from helixdesk.quality.rules import RuleBook
from helixdesk.simulation.practice import TrainingRoom
from helixdesk.speech.asr import SpeechRecognizer
from helixdesk.speech.tts import CachedSynthesizer, synthesizer

log = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    audit: AuditLog
    bus: EventBus
    relay: OutboxRelay
    keyring: Keyring
    bank: BankConnector
    config: PackConfig
    nlu: NLUPipeline
    parser: Parser
    actions: ActionRunner
    identity: VerificationService
    knowledge: KnowledgeBase
    kb_workspace: KnowledgeWorkspace  # the console's knowledge workspace
    kb_uploads: UploadJobs
    incidents: IncidentRegister  # the incident register the bot tells affected customers from
    spikes: SpikeSuggestions  # hotspot spikes the register's page suggests opening an incident for
    campaigns: Campaigns  # incident campaigns: notices to the affected customers (sent by outreach)
    opt_outs: OptOuts  # each customer's notification opt-outs
    strategies: StrategyStore  # the bank's lifecycle strategies, seeded from the pack
    bot: Bot
    writer: ConversationWriter
    conversations: ConversationService
    earlier: EarlierConversations  # the customer's earlier conversations on every channel
    images: ImageMessages  # image messages: OCR, the fields as the turn's entities, the original encrypted
    speech: SpeechRecognizer  # speech to text (voice messages, WeChat voice), loaded on first use
    synthesizer: CachedSynthesizer  # text to speech (`tts_backend`), fixed prompts rendered once
    voice: VoiceMessages  # voice messages: the transcript answered as typed, the recording encrypted
    live: LiveHub
    staff: StaffAccounts
    api_keys: ApiKeys
    queue: QueueView
    queueing: Queueing
    claims: Claims
    transfers: Transfers
    hand_back: HandBack
    wrap_up: WrapUp
    agents: AgentDirectory
    workspace: AgentWorkspace
    disclosure: Disclosure  # masked values and originals, shown for a stated reason and audited
    drafts: KnowledgeDrafts
    limits: AbuseLimits
    rates: RateService
    outbox: OutboxReader
    audit_search: AuditSearch
    quality_rules: RuleBook
    draft_check: DraftCheck
    alert_board: AlertBoard
    training: TrainingRoom  # agents' practice conversations with a simulated customer
    whispers: Whispers
    goodwill: Goodwill
    follow_ups: FollowUps
    ratings: Ratings
    qa_review: QualityReview
    staff_quality: StaffQuality
    insight: Insight
    analytics: AnalyticsReader
    drift_board: DriftBoard  # drift alarms and the daily measures of the bot's understanding
    proposals: Proposals
    feedback: FeedbackInbox
    profiles: CustomerProfiles  # the customer profile beside a conversation
    wechat: WeChatChannel  # the WeChat official account and WeCom app (docs/channels.md)
    wechat_out: DurableConsumer | None  # agents' messages out to WeChat (when an account is set)
    social: SocialChannel  # social platforms' webhooks (docs/channels.md)
    social_out: DurableConsumer | None  # replies and agents' messages out to the platforms
    llm: Assistant | None  # the optional LLM backend (docs/llm.md); None while llm_enabled is off
    labelling: Labelling  # the labelling queue (docs/learning.md)
    datasets: Datasets  # versions of the labels
    registry: ModelRegistry  # the intent models: reports, shadow runs, promotion, rollback
    model_watch: LiveModelWatch  # loads a newly promoted model without a restart
    phone: PhoneDesk  # the phone channel's calls: voice menu, speech both ways (docs/telephony.md)

    @property
    def pack(self) -> Pack:
        return self.config.pack

    @classmethod
    def build(cls, settings: Settings, **overrides: Any) -> Container:
        """The real wiring; any part named in `overrides` is used instead of building it."""
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"Container has no part(s) {', '.join(sorted(unknown))}")
        parts: dict[str, Any] = {"settings": settings}

        def part(name: str, make: Any) -> Any:
            if name not in parts:
                parts[name] = overrides[name] if name in overrides else make()
            return parts[name]

        engine = part("engine", lambda: make_engine(settings.database_url))
        sessions = part("sessions", lambda: make_session_factory(engine))
        audit = part("audit", lambda: AuditLog(key=resolve_audit_key(settings)))
        bus = part("bus", lambda: build_bus(settings))
        relay = part(
            "relay",
            lambda: OutboxRelay(sessions=sessions, bus=bus, poll_interval=settings.outbox_poll_seconds),
        )
        keyring = part("keyring", lambda: resolve_keyring(settings))
        bank = part("bank", lambda: DemoBankConnector(session_factory=sessions))
        identity_policy = load_identity_policy(settings.pack)
        config = part(
            "config",
            lambda: PackConfig.load(
                load_pack(settings.pack),
                code_length=identity_policy.code_length,
                timezone=settings.bank_timezone,
                handoff_policy=settings.handoff_policy,
            ),
        )
        nlu = part("nlu", lambda: build_nlu(settings, config.pack))
        parser = part(
            "parser",
            lambda: (
                ProcessParser(config.pack.nlu_pipeline, defaults={"model_root": settings.model_dir})
                if settings.nlu_process
                else ParseBatcher(nlu)
            ),
        )
        actions = part(
            "actions",
            lambda: ActionRunner(bank=bank, sessions=sessions, policies=config.actions, audit=audit),
        )
        identity = part(
            "identity",
            lambda: VerificationService(
                sessions=sessions,
                notifier=OutboxNotifier(sessions=sessions, keyring=keyring),
                bank=bank,
                policy=identity_policy,
                secret=resolve_secret_key(settings),
                audit=audit,
            ),
        )
        knowledge = part(
            "knowledge",
            lambda: KnowledgeBase(
                sessions=sessions, embed=embed, graph=KnowledgeGraph.from_pack(settings.pack)
            ),
        )
        part(
            "kb_workspace",
            lambda: KnowledgeWorkspace(sessions=sessions, knowledge=knowledge, embed=embed, audit=audit),
        )
        part(
            "kb_uploads", lambda: UploadJobs(sessions=sessions, knowledge=knowledge, embed=embed, audit=audit)
        )
        part(
            "incidents",
            lambda: IncidentRegister(sessions=sessions, audit=audit, hotspot_known=hotspot_known),
        )
        part("spikes", lambda: SpikeSuggestions(sessions=sessions, audit=audit))
        part(
            "campaigns",
            lambda: Campaigns(
                sessions=sessions,
                config=load_campaign_config(config.pack, settings),
                tz=config.actions.bank.tz,
                audit=audit,
            ),
        )
        part("opt_outs", lambda: OptOuts(sessions=sessions, bank=bank, audit=audit))
        strategies = part(
            "strategies",
            lambda: StrategyStore(sessions=sessions, pack_set=load_strategies(config.pack), audit=audit),
        )
        profiles = part(
            "profiles",
            lambda: CustomerProfiles.load(
                bank=bank,
                config=load_lifecycle_config(config.pack),
                model_dir=settings.model_dir,
                pack=config.pack.name,
            ),
        )
        quality_rules = part(
            "quality_rules",
            lambda: RuleBook.load(config.pack).with_model(
                load_if_trained(settings.model_dir / config.pack.name)
            ),
        )
        llm = part(
            "llm",
            lambda: build_assistant(
                settings,
                sessions=sessions,
                # The product's compliance check of what the bot says runs on every answer.
                compliance=lambda text: [h.rule for h in quality_rules.check_message(text, "bot")],
            ),
        )
        bot = part(
            "bot",
            lambda: Bot(
                decider=Decider(config.dialogue),
                executor=Executor(
                    actions=actions,
                    bank=bank,
                    identity=identity,
                    knowledge=knowledge,
                    touches=TouchReader(profiles=profiles, strategies=strategies, tz=config.actions.bank.tz),
                ),
                writer=ReplyWriter(
                    templates=config.templates, style_policy=config.dialogue.style, assistant=llm
                ),
            ),
        )
        writer = part("writer", lambda: ConversationWriter(privacy=TranscriptPrivacy(keyring=keyring)))
        desk = Desk(
            sessions=sessions,
            writer=writer,
            policy=config.handoff,
            templates=config.templates,
            labels=config.labels,
            audit=audit,
            relay=relay,
            abandon_issue_after_days=config.dialogue.policies.settings.abandon_issue_after_days,
            assistant=llm,
        )
        queue = part("queue", lambda: QueueView(desk))
        queueing = part("queueing", lambda: Queueing(desk))
        turns = Turns(
            sessions=sessions,
            writer=writer,
            bot=bot,
            nlu=parser,
            bank=bank,
            identity=identity,
            handovers=queueing,
            relay=relay,
            abandon_issue_after_days=config.dialogue.policies.settings.abandon_issue_after_days,
            lease_seconds=settings.turn_lease_seconds,
            tz=config.actions.bank.tz,
        )
        conversations = part(
            "conversations",
            lambda: ConversationService(
                sessions=sessions,
                writer=writer,
                turns=turns,
                bank=bank,
                identity=identity,
                handovers=queueing,
                templates=config.templates,
                max_message_chars=settings.max_message_chars,
                demo_customer_login=settings.demo_pages,
                relay=relay,
            ),
        )
        part(
            "earlier",
            lambda: EarlierConversations(
                sessions=sessions, retention_days=settings.retention_conversations_days
            ),
        )
        images = part(
            "images",
            lambda: ImageMessages(
                sessions=sessions,
                conversations=conversations,
                turns=turns,
                reader=OcrReader(threads=settings.ocr_threads),
                keyring=keyring,
                max_bytes=settings.image_max_bytes,
                max_pixels=settings.image_max_pixels,
            ),
        )
        speech = part("speech", lambda: SpeechRecognizer(threads=settings.speech_threads))
        part(
            "synthesizer",
            lambda: CachedSynthesizer(synthesizer(settings.tts_backend), cache_dir=settings.tts_cache_dir),
        )
        voice = part(
            "voice",
            lambda: VoiceMessages(
                sessions=sessions,
                conversations=conversations,
                turns=turns,
                recognizer=speech,
                keyring=keyring,
                max_bytes=settings.audio_max_bytes,
                max_seconds=settings.audio_max_seconds,
            ),
        )
        part("live", lambda: LiveHub(bus=bus, sessions=sessions))
        wechat = part(
            "wechat",
            lambda: build_wechat(
                settings,
                sessions=sessions,
                writer=writer,
                identity=identity,
                bank=bank,
                audit=audit,
                conversations=conversations,
                images=images,
                voice=voice,
            ),
        )
        part(
            "wechat_out",
            lambda: (
                outbound_consumer(
                    sessions, wechat.accounts, wechat.store, poll_seconds=settings.outbox_poll_seconds
                )
                if wechat.configured
                else None
            ),
        )
        part(
            "staff",
            lambda: StaffAccounts(
                sessions=sessions,
                max_failures=settings.login_max_failures,
                lockout=timedelta(minutes=settings.login_lockout_minutes),
                idle=timedelta(minutes=settings.session_idle_minutes),
                max_age=timedelta(hours=settings.session_max_hours),
                password_min_length=settings.password_min_length,
                audit=audit,
                actor=Actor.system("console"),
            ),
        )
        part("api_keys", lambda: ApiKeys(sessions=sessions, audit=audit, actor=Actor.system("console")))
        part("claims", lambda: Claims(desk, queue))
        part("transfers", lambda: Transfers(desk))
        part("hand_back", lambda: HandBack(desk))
        part("wrap_up", lambda: WrapUp(desk))
        part("agents", lambda: AgentDirectory(sessions=sessions, wellbeing=config.handoff.wellbeing))
        workspace = part(
            "workspace",
            lambda: AgentWorkspace(
                desk=desk,
                view=queue,
                bank=bank,
                knowledge=knowledge,
                tz=config.actions.bank.tz,
            ),
        )
        part("disclosure", lambda: Disclosure(desk=desk, workspace=workspace, keyring=keyring))
        drafts = part(
            "drafts",
            lambda: KnowledgeDrafts(desk, workspace, ingest_draft=draft_ingester(sessions, knowledge)),
        )
        part("limits", lambda: AbuseLimits.from_settings(settings))
        part(
            "rates",
            lambda: RateService(sessions=sessions, max_age_hours=config.actions.bank.rates_max_age_hours),
        )
        part("outbox", lambda: OutboxReader(sessions=sessions, keyring=keyring))
        part("audit_search", lambda: AuditSearch(sessions=sessions))
        part("whispers", lambda: Whispers(desk))
        part(
            "goodwill",
            lambda: Goodwill(
                desk, bank=bank, workspace=workspace, policy=load_goodwill_policy(config.pack.path)
            ),
        )
        part("follow_ups", lambda: FollowUps(desk, workspace=workspace, tz=config.actions.bank.tz))
        part(
            "ratings",
            lambda: Ratings(
                sessions=sessions, writer=writer, nlu=parser, relay=relay, tz=config.actions.bank.tz
            ),
        )
        # Quality monitoring, insight, analytics and learning: consumers of the conversations.
        build_watchers(
            part,
            settings,
            sessions=sessions,
            audit=audit,
            config=config,
            parser=parser,
            writer=writer,
            drafts=drafts,
            llm=llm,
            quality_rules=quality_rules,
        )
        feedback = parts["feedback"]
        social = part(
            "social",
            lambda: build_social(settings, sessions=sessions, conversations=conversations, feedback=feedback),
        )
        part("social_out", lambda: social_consumer(settings, sessions, social))
        part(
            "phone",
            lambda: PhoneDesk(
                conversations=conversations,
                voice=voice,
                recognizer=speech,
                synthesizer=parts["synthesizer"],
                menu=VoiceMenu.for_pack(config.pack.name),
                config=call_config(settings),
            ),
        )
        return cls(**parts)

    async def start(self) -> None:
        await asyncio.to_thread(self.model_watch.prepare)  # LIVE agrees with the registry first
        self.parser.start()
        if not isinstance(self.parser, ProcessParser):
            self.nlu.warm_up()
        self.knowledge.load()
        await self.live.start()
        await self.bus.start()
        await self.relay.start()
        if self.wechat_out is not None:
            await self.wechat_out.start(self.bus)
        await self.model_watch.start()
        if self.social_out is not None:
            await self.social_out.start(self.bus)

    async def stop(self) -> None:
        await self.model_watch.stop()
        await self.wechat.close()
        if self.wechat_out is not None:
            await self.wechat_out.stop()
        if self.social_out is not None:
            await self.social_out.stop()
        await self.live.stop()
        await self.relay.stop()
        await self.bus.stop()
        self.parser.stop()
        await asyncio.to_thread(self.kb_uploads.close)  # lets a running ingestion finish
        await self.limits.close()
        self.engine.dispose()

    async def settle(self) -> None:
        """Publish every stored event and let every bus subscriber handle it (tests, shutdown)."""
        await self.relay.flush()
        drain = getattr(self.bus, "drain", None)
        if drain is not None:
            await drain()
