"""Builds every long-lived object of a running Helixdesk from one `Settings` (no import-time singletons)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.abuse import AbuseLimits
from helixdesk.actions.policies import load_action_policies
from helixdesk.actions.runner import ActionRunner
from helixdesk.agents.service import AgentDirectory
from helixdesk.audit import Actor, AuditLog
from helixdesk.auth.apikeys import ApiKeys
from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.connector import BankConnector
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.protocol import EventBus
from helixdesk.bus.redis_streams import RedisStreamsEventBus
from helixdesk.conversations.live import LiveHub
from helixdesk.conversations.service import ConversationService
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.dialogue.adapters import ActionsAdapter, KnowledgeAdapter, VerificationAdapter
from helixdesk.dialogue.bot import Bot
from helixdesk.dialogue.manager import DialogueManager
from helixdesk.dialogue.policy import load_policies
from helixdesk.handoff.models import KnowledgeDraft
from helixdesk.handoff.packet import Labels
from helixdesk.handoff.policy import load_handoff_policy
from helixdesk.handoff.service import HandoffService
from helixdesk.handoff.workspace import AgentWorkspace, DraftIngest
from helixdesk.identity import VerificationService, load_identity_policy
from helixdesk.knowledge.graph import KnowledgeGraph
from helixdesk.knowledge.ingest import ingest_entry
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.nlg.personalise import load_tips
from helixdesk.nlg.style import StylePolicy
from helixdesk.nlg.templates import Templates
from helixdesk.nlu.embeddings import embed
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.notifications import OutboxNotifier
from helixdesk.packs.loader import Pack, load_pack
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.keys import resolve_keyring
from helixdesk.privacy.transcripts import TranscriptPrivacy
from helixdesk.secret_key import resolve_audit_key, resolve_secret_key
from helixdesk.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    audit: AuditLog
    bus: EventBus
    keyring: Keyring
    bank: BankConnector
    pack: Pack
    nlu: NLUPipeline
    actions: ActionRunner
    identity: VerificationService
    knowledge: KnowledgeBase
    bot: Bot
    conversations: ConversationService
    live: LiveHub
    staff: StaffAccounts
    api_keys: ApiKeys
    handoffs: HandoffService
    agents: AgentDirectory
    workspace: AgentWorkspace
    limits: AbuseLimits

    @classmethod
    def build(cls, settings: Settings) -> Container:
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        audit = AuditLog(key=resolve_audit_key(settings))
        bus = build_bus(settings)
        keyring = resolve_keyring(settings)
        privacy = TranscriptPrivacy(keyring=keyring)
        bank = DemoBankConnector(session_factory=sessions)
        pack = load_pack(settings.pack)
        nlu = build_nlu(settings, pack)
        actions, identity, knowledge, bot = build_services(
            settings, pack, sessions=sessions, bank=bank, nlu=nlu, keyring=keyring, audit=audit
        )
        handoffs = build_handoffs(pack, sessions=sessions, bus=bus, bank=bank, bot=bot, audit=audit)
        conversations = ConversationService(
            sessions=sessions,
            bus=bus,
            bot=bot,
            bank=bank,
            handoffs=handoffs,
            max_message_chars=settings.max_message_chars,
            abandon_issue_after_days=bot.manager.policies.settings.abandon_issue_after_days,
            demo_customer_login=settings.demo_pages,
            privacy=privacy,
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            audit=audit,
            bus=bus,
            keyring=keyring,
            bank=bank,
            pack=pack,
            nlu=nlu,
            actions=actions,
            identity=identity,
            knowledge=knowledge,
            bot=bot,
            conversations=conversations,
            live=LiveHub(bus=bus),
            staff=StaffAccounts(
                sessions=sessions,
                max_failures=settings.login_max_failures,
                lockout=timedelta(minutes=settings.login_lockout_minutes),
                idle=timedelta(minutes=settings.session_idle_minutes),
                max_age=timedelta(hours=settings.session_max_hours),
                password_min_length=settings.password_min_length,
                audit=audit,
                actor=Actor.system("console"),
            ),
            api_keys=ApiKeys(sessions=sessions, audit=audit, actor=Actor.system("console")),
            handoffs=handoffs,
            agents=AgentDirectory(sessions=sessions, wellbeing=handoffs.policy.wellbeing),
            workspace=AgentWorkspace(
                privacy=privacy,
                keyring=keyring,
                sessions=sessions,
                handoffs=handoffs,
                bank=bank,
                knowledge=knowledge,
                templates=bot.templates,
                ingest_draft=draft_ingester(sessions, knowledge),
            ),
            limits=AbuseLimits.from_settings(settings),
        )

    async def start(self) -> None:
        self.bot.warm_up()
        self.knowledge.load()
        await self.live.start()
        await self.bus.start()

    async def stop(self) -> None:
        await self.bus.stop()
        await self.limits.close()
        self.engine.dispose()


def build_bus(settings: Settings) -> EventBus:
    if settings.event_bus == "redis":
        return RedisStreamsEventBus(url=settings.redis_url, stream=settings.redis_stream)
    return MemoryEventBus()


def build_nlu(settings: Settings, pack: Pack) -> NLUPipeline:
    return NLUPipeline.from_config(pack.nlu_pipeline, defaults={"model_root": settings.model_dir})


def build_services(
    settings: Settings,
    pack: Pack,
    *,
    sessions: sessionmaker[Session],
    bank: BankConnector,
    nlu: NLUPipeline,
    keyring: Keyring | None = None,
    audit: AuditLog,
) -> tuple[ActionRunner, VerificationService, KnowledgeBase, Bot]:
    """The action runner, identity verification, knowledge base and the bot that uses them.

    `keyring` encrypts the demo outbox (default: the one `settings` configure).
    """
    actions = ActionRunner(bank=bank, sessions=sessions, policies=load_action_policies(pack), audit=audit)
    identity = VerificationService(
        sessions=sessions,
        notifier=OutboxNotifier(sessions=sessions, keyring=keyring or resolve_keyring(settings)),
        bank=bank,
        policy=load_identity_policy(settings.pack),
        secret=resolve_secret_key(settings),
        audit=audit,
    )
    knowledge = KnowledgeBase(sessions=sessions, embed=embed, graph=KnowledgeGraph.from_pack(settings.pack))
    bot = build_bot(pack, nlu=nlu, actions=actions, identity=identity, knowledge=knowledge, bank=bank)
    return actions, identity, knowledge, bot


def build_handoffs(
    pack: Pack,
    *,
    sessions: sessionmaker[Session],
    bus: EventBus,
    bank: BankConnector,
    bot: Bot,
    audit: AuditLog | None = None,
) -> HandoffService:
    """The human side of conversations: routing, the handoff packet, claims."""
    return HandoffService(
        sessions=sessions,
        bus=bus,
        bank=bank,
        verification=bot.manager.verification,
        policy=load_handoff_policy(pack.path / "handoff" / "policy.yaml"),
        templates=bot.templates,
        labels=Labels.load(pack.path / "handoff" / "labels.yaml"),
        abandon_issue_after_days=bot.manager.policies.settings.abandon_issue_after_days,
        audit=audit,
    )


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
            embed=embed,
        )
        knowledge.load()
        return source

    return ingest_draft


def build_bot(
    pack: Pack,
    *,
    nlu: NLUPipeline,
    actions: ActionRunner,
    identity: VerificationService,
    knowledge: KnowledgeBase,
    bank: BankConnector,
) -> Bot:
    """The bot of one pack: its dialogue policies, templates, style and tips."""
    actions_port = ActionsAdapter(runner=actions, bank=bank)
    manager = DialogueManager(
        policies=load_policies(pack.path / "dialogue" / "policies.yaml"),
        knowledge=KnowledgeAdapter(knowledge=knowledge),
        actions=actions_port,
        verification=VerificationAdapter(service=identity),
    )
    return Bot(
        triggers=load_handoff_policy(pack.path / "handoff" / "policy.yaml").triggers,
        nlu=nlu,
        manager=manager,
        templates=Templates.load(pack.path / "nlg" / "templates"),
        style_policy=StylePolicy.load(pack.path / "nlg" / "style.yaml"),
        tips=load_tips(pack.path / "nlg" / "tips.yaml"),
        actions=actions_port,
    )
