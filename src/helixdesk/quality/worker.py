"""The quality-monitoring process: the durable consumer `quality` and the periodic sweep.

`run_worker(settings)` runs until cancelled (`helixdesk qa run`; `helixdesk serve` starts it as a
child process). It is a process of its own so scoring never competes with a customer's turn for
the server's interpreter. One process at a time consumes (a lease); a second one stands by and
takes over when the first stops or dies, from the stored offset. Its assessing runs at idle CPU
priority: on a saturated machine it falls behind and catches up once the load drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import anyio

from helixdesk.bus.consumer import DurableConsumer
from helixdesk.core.settings import Settings
from helixdesk.db.lease import try_acquire
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction
from helixdesk.packs.loader import load_pack
from helixdesk.quality.model import load_if_trained
from helixdesk.quality.monitor import CONSUMER, EmotionReader, QualityMonitor
from helixdesk.quality.rules import RuleBook

log = logging.getLogger(__name__)


def emotion_reader(model_dir: Path) -> EmotionReader | None:
    """The pack's emotion model as a reader of texts, or None when there is none."""
    from helixdesk.nlu.emotion.artefacts import EmotionModelError, load_emotion_model

    try:
        model = load_emotion_model(model_dir)
    except EmotionModelError as e:
        log.warning("quality monitoring reads emotions from the bot's NLU only: %s", e.detail)
        return None

    def read(texts: Sequence[str]) -> list[tuple[str, float]]:
        return [(e.label, e.intensity) for e in model.predict(list(texts))]

    return read


async def run_worker(
    settings: Settings, *, poll_seconds: float = 1.0, sweep_seconds: float = 5.0, lease_seconds: float = 30.0
) -> None:
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    model = load_if_trained(settings.model_dir / settings.pack)
    monitor = QualityMonitor(
        RuleBook.load(load_pack(settings.pack)).with_model(model),
        emotions=emotion_reader(settings.model_dir / settings.pack),
    )
    consumer = DurableConsumer(
        name=CONSUMER,
        sessions=sessions,
        batch_handler=monitor.handle,
        prepare=monitor.prepare,
        # Scoring may wait; a customer's turn may not. Reading and assessing (the CPU) run at idle
        # priority; the short write transaction runs at normal priority, so it never holds the
        # database's write lock while starved of CPU.
        prepare_at_idle=True,
        # Written a few conversations per transaction, with a pause between them under SQLite (one
        # write lock for everyone), so a turn waiting for the lock waits at most a few ms.
        chunk_by=lambda event: event.conversation_id,
        chunk_size=8,
        chunk_pause=0.03 if settings.database_url.startswith("sqlite") else 0.0,
        poll_interval=poll_seconds,
        lease_seconds=lease_seconds,
        # Large batches: a busy conversation is scored once per batch, in few transactions.
        batch=1000,
    )
    holder = f"sweep-{id(monitor)}"

    def sweep() -> int:
        # Read what is due outside the write transaction; write only when something is.
        with reading(sessions) as s:
            due = monitor.sweep_due(s)
        if not due:
            return 0
        with transaction(sessions) as s:
            if not try_acquire(s, "quality-sweep", holder, ttl=timedelta(seconds=sweep_seconds * 3)):
                return 0
            return monitor.sweep_apply(s, due)

    await consumer.start()
    log.info("quality monitoring started (consumer %s)", CONSUMER)
    try:
        while True:
            await asyncio.sleep(sweep_seconds)
            try:
                await anyio.to_thread.run_sync(sweep)
            except Exception:
                log.exception("quality sweep failed; it runs again in %ss", sweep_seconds)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        engine.dispose()
