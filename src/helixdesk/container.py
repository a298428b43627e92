"""Builds every long-lived object of a running Helixdesk from one `Settings` (no import-time singletons)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.connector import BankConnector
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.protocol import EventBus
from helixdesk.bus.redis_streams import RedisStreamsEventBus
from helixdesk.conversations.live import LiveHub
from helixdesk.conversations.service import ConversationService
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.dialogue.bot import Bot
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.packs.loader import Pack, load_pack
from helixdesk.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: EventBus
    bank: BankConnector
    pack: Pack
    nlu: NLUPipeline
    bot: Bot
    conversations: ConversationService
    live: LiveHub

    @classmethod
    def build(cls, settings: Settings) -> Container:
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        bus = build_bus(settings)
        bank = DemoBankConnector(session_factory=sessions)
        pack = load_pack(settings.pack)
        nlu = build_nlu(settings, pack)
        bot = Bot(nlu=nlu)
        conversations = ConversationService(
            sessions=sessions, bus=bus, bot=bot, bank=bank, max_message_chars=settings.max_message_chars
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            bus=bus,
            bank=bank,
            pack=pack,
            nlu=nlu,
            bot=bot,
            conversations=conversations,
            live=LiveHub(bus=bus),
        )

    async def start(self) -> None:
        self.bot.warm_up()
        await self.live.start()
        await self.bus.start()

    async def stop(self) -> None:
        await self.bus.stop()
        self.engine.dispose()


def build_bus(settings: Settings) -> EventBus:
    if settings.event_bus == "redis":
        return RedisStreamsEventBus(url=settings.redis_url, stream=settings.redis_stream)
    return MemoryEventBus()


def build_nlu(settings: Settings, pack: Pack) -> NLUPipeline:
    return NLUPipeline.from_config(pack.nlu_pipeline, defaults={"model_root": settings.model_dir})
