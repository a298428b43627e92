"""Running insight's background work in the test process: publish the stored events, let the
`insight` consumer catch up, embed every row, mine."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.consumer import DurableConsumer
from helixdesk.core.clock import utcnow
from helixdesk.insight.embedder import Vectoriser, embed_pending, intent_reader
from helixdesk.insight.feed import CONSUMER, InsightFeed, load_products
from helixdesk.insight.mining import RunSummary, mine_window
from helixdesk.packs.loader import load_pack
from tests.events import publish_stored

PACK = load_pack("retail_bank").path


def consume(sessions: sessionmaker[Session]) -> int:
    """Publish what is stored and let the `insight` consumer handle it; returns how many events."""

    async def run() -> int:
        await publish_stored(sessions)
        feed = InsightFeed(products=load_products(PACK))
        consumer = DurableConsumer(
            name=CONSUMER,
            sessions=sessions,
            batch_handler=feed.handle,
            prepare=feed.prepare,
            lease_seconds=0.5,
        )
        try:
            return await consumer.catch_up()
        finally:
            await consumer.stop()  # gives the lease up: the next call takes over at once

    return asyncio.run(run())


def vectoriser(model_root: Path) -> Vectoriser:
    return Vectoriser(intent_reader(model_root / "retail_bank"))


def embed_all(sessions: sessionmaker[Session], vectorise: Vectoriser) -> None:
    while embed_pending(sessions, vectorise, limit=128):
        pass


def consume_and_mine(
    sessions: sessionmaker[Session], model_root: Path, *, days: int = 30
) -> RunSummary | None:
    consume(sessions)
    embed_all(sessions, vectoriser(model_root))
    now = utcnow()
    return mine_window(sessions, since=now - timedelta(days=days), until=now)
