"""The analytics process: the durable consumer `analytics`, which keeps the facts and rollups of the
dashboards up to date (`helixdesk analytics run`; `helixdesk serve` starts it as a child process).
Reading and computing run on a thread at idle CPU priority; each write is short."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import tzinfo

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.analytics.feed import CONSUMER, AnalyticsFeed
from helixdesk.bus.consumer import DurableConsumer
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory

log = logging.getLogger(__name__)


def analytics_consumer(
    sessions: sessionmaker[Session],
    tz: tzinfo,
    *,
    poll_seconds: float = 1.0,
    lease_seconds: float = 30.0,
    sqlite: bool = False,
) -> DurableConsumer:
    feed = AnalyticsFeed(tz=tz)
    return DurableConsumer(
        name=CONSUMER,
        sessions=sessions,
        batch_handler=feed.handle,
        prepare=feed.prepare,
        prepare_at_idle=True,
        chunk_by=lambda event: event.conversation_id,
        chunk_size=16,
        chunk_pause=0.02 if sqlite else 0.0,
        poll_interval=poll_seconds,
        lease_seconds=lease_seconds,
        batch=1000,
    )


async def run_worker(settings: Settings, tz: tzinfo, *, poll_seconds: float = 1.0) -> None:
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    consumer = analytics_consumer(
        sessions, tz, poll_seconds=poll_seconds, sqlite=settings.database_url.startswith("sqlite")
    )
    await consumer.start()
    log.info("analytics started (consumer %s)", CONSUMER)
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        engine.dispose()
