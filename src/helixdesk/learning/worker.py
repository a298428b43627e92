"""The learning process: the durable consumers `learning` (sampling messages into the labelling
queue) and `learning-shadow` (a candidate parsing live traffic beside the live model).

`run_worker(settings)` runs until cancelled (`helixdesk learning run`; `helixdesk serve` starts it
as a child process when `learning_worker` is on). Reading and parsing run at idle CPU priority and
each write is short: on a busy machine the queue and the shadow fall behind rather than slow a
customer's turn, and catch up when the load drops. One process at a time consumes (a lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from helixdesk.bus.consumer import DurableConsumer
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.learning.feed import CONSUMER, LabellingFeed
from helixdesk.learning.sampling import Corrections, SamplingRates
from helixdesk.learning.shadow import CONSUMER as SHADOW_CONSUMER
from helixdesk.learning.shadow import ShadowFeed
from helixdesk.packs.loader import load_pack

log = logging.getLogger(__name__)


def sampling_rates(settings: Settings) -> SamplingRates:
    return SamplingRates(
        low_confidence=settings.learning_sample_low_confidence,
        out_of_scope=settings.learning_sample_out_of_scope,
        corrected=settings.learning_sample_corrected,
        handed_over=settings.learning_sample_handed_over,
        confidence_below=settings.learning_low_confidence,
    )


def labelling_feed(settings: Settings) -> LabellingFeed:
    return LabellingFeed(
        rates=sampling_rates(settings),
        corrections=Corrections.load(load_pack(settings.pack).path),
        double_percent=settings.learning_double_label_percent,
    )


def consumers(settings: Settings, sessions: object, *, poll_seconds: float = 1.0) -> list[DurableConsumer]:
    """The two consumers over `sessions` (a sessionmaker), as the worker runs them."""
    feed = labelling_feed(settings)
    shadow = ShadowFeed(root=settings.model_dir / settings.pack / "intent")
    sqlite = settings.is_sqlite
    common = {
        "sessions": sessions,
        "prepare_at_idle": True,
        "chunk_by": lambda event: event.conversation_id,
        "chunk_size": 8,
        "chunk_pause": 0.03 if sqlite else 0.0,
        "poll_interval": poll_seconds,
        "batch": 500,
    }
    return [
        DurableConsumer(name=CONSUMER, batch_handler=feed.handle, prepare=feed.prepare, **common),  # type: ignore[arg-type]
        DurableConsumer(name=SHADOW_CONSUMER, batch_handler=shadow.handle, prepare=shadow.prepare, **common),  # type: ignore[arg-type]
    ]


async def run_worker(settings: Settings, *, poll_seconds: float = 1.0) -> None:
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    running = consumers(settings, sessions, poll_seconds=poll_seconds)
    for consumer in running:
        await consumer.start()
    log.info("learning started (consumers %s)", ", ".join(c.name for c in running))
    try:
        while True:
            await asyncio.sleep(3600)
    finally:
        for consumer in running:
            with contextlib.suppress(Exception):
                await consumer.stop()
        engine.dispose()
