"""The insight process: the durable consumer `insight`, the embedder and the daily mining run.

`run_worker(settings)` runs until cancelled (`helixdesk insight run`; `helixdesk serve` starts it
as a child process, like quality monitoring). Reading, embedding and clustering run on a thread at
idle CPU priority; every write is short and runs at normal priority. It mines the last
`window_days` when no run has finished in the last `mine_every` (and at start when there has
never been one), so the hotspots are at most a day old, and rows arriving in between join the
latest run's topics as they are embedded. Every `propose_every` it looks for clusters of questions
the bot could not answer and proposes answers from what agents replied (`insight.proposals`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import anyio
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.consumer import ConsumerOffset, DurableConsumer
from helixdesk.bus.outbox import last_log_seq
from helixdesk.core.clock import utcnow
from helixdesk.core.priority import lower_this_thread
from helixdesk.core.settings import Settings
from helixdesk.db.lease import try_acquire
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction
from helixdesk.insight.embedder import Vectoriser, embed_next, intent_reader, store_embedded
from helixdesk.insight.feed import CONSUMER, InsightFeed, forget_anonymised, load_products
from helixdesk.insight.mining import MIN_ROWS, apply_run, plan_run
from helixdesk.insight.models import InsightMessage, InsightRun
from helixdesk.insight.proposals import Proposals
from helixdesk.packs.loader import load_pack

log = logging.getLogger(__name__)


def mining_due(s: Session, *, every: timedelta, window: timedelta) -> bool:
    """A run is due when none finished within `every`, the consumer has caught up with the event
    log (and the embedder with the consumer: the caller checks), the window holds enough rows with
    vectors to mine, and some arrived since the last run."""
    last = s.scalar(select(func.max(InsightRun.finished_at)))
    now = utcnow()
    if last is not None and now - last < every:
        return False
    # Not while the consumer is behind: a run mines what has happened, not part of it.
    offset = s.get(ConsumerOffset, CONSUMER)
    if (offset.log_seq if offset is not None else 0) < last_log_seq(s):
        return False
    embedded = select(func.count()).select_from(InsightMessage).where(InsightMessage.vector.is_not(None))
    if int(s.scalar(embedded.where(InsightMessage.at >= now - window)) or 0) < MIN_ROWS:
        return False
    return last is None or int(s.scalar(embedded.where(InsightMessage.at >= last)) or 0) > 0


async def run_worker(
    settings: Settings,
    *,
    poll_seconds: float = 1.0,
    lease_seconds: float = 30.0,
    mine_every: timedelta = timedelta(hours=24),
    window_days: int = 30,
    idle_seconds: float = 2.0,
    propose_every: timedelta = timedelta(minutes=10),
) -> None:
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    pack = load_pack(settings.pack)
    feed = InsightFeed(products=load_products(pack.path))
    sqlite = settings.database_url.startswith("sqlite")
    consumer = DurableConsumer(
        name=CONSUMER,
        sessions=sessions,
        batch_handler=feed.handle,
        prepare=feed.prepare,
        prepare_at_idle=True,
        chunk_by=lambda event: event.conversation_id,
        chunk_size=8,
        chunk_pause=0.03 if sqlite else 0.0,
        poll_interval=poll_seconds,
        lease_seconds=lease_seconds,
        batch=1000,
    )
    vectorise = Vectoriser(intent_reader(settings.model_dir / settings.pack))
    idle = ThreadPoolExecutor(1, thread_name_prefix="insight-idle", initializer=lower_this_thread)
    holder = f"insight-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    proposals = Proposals(sessions=sessions, holder=holder)
    proposed_at = utcnow() - propose_every
    forgot_at = utcnow() - timedelta(minutes=10)
    await consumer.start()
    log.info("insight started (consumer %s)", CONSUMER)
    try:
        while True:
            try:
                busy = await _step(sessions, vectorise, idle, holder, mine_every, window_days, sqlite)
                if not busy and utcnow() - forgot_at >= timedelta(minutes=10):
                    # Conversations retention anonymised: their rows keep their figures only.
                    forgot_at = utcnow()
                    await anyio.to_thread.run_sync(forget_anonymised, sessions)
                if not busy and utcnow() - proposed_at >= propose_every:
                    # Proposed answers for clusters of unanswered questions (reading and clustering
                    # at idle priority; each proposal is one short write).
                    proposed_at = utcnow()
                    made = await asyncio.wrap_future(idle.submit(proposals.generate))
                    if made:
                        log.info("insight proposed %d answers", len(made))
            except Exception:
                log.exception("insight step failed; it runs again shortly")
                busy = False
            if not busy:
                await asyncio.sleep(idle_seconds)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        idle.shutdown(wait=False, cancel_futures=True)
        engine.dispose()


async def _step(
    sessions: sessionmaker[Session],
    vectorise: Vectoriser,
    idle: ThreadPoolExecutor,
    holder: str,
    mine_every: timedelta,
    window_days: int,
    sqlite: bool,
) -> bool:
    """Embed one batch of rows, or else mine when due; True when there was work."""
    embedded = await asyncio.wrap_future(idle.submit(embed_next, sessions, vectorise))
    if embedded is not None:
        await anyio.to_thread.run_sync(store_embedded, sessions, embedded)
        return True
    with reading(sessions) as s:
        due = mining_due(s, every=mine_every, window=timedelta(days=window_days))
    if not due:
        return False
    with transaction(sessions) as s:
        if not try_acquire(s, "insight-mine", holder, ttl=timedelta(hours=1)):
            return False
    now = utcnow()
    plan = await asyncio.wrap_future(
        idle.submit(lambda: plan_run(sessions, since=now - timedelta(days=window_days), until=now))
    )
    if plan is None:
        return False
    summary = await anyio.to_thread.run_sync(lambda: apply_run(sessions, plan, pause=0.03 if sqlite else 0.0))
    log.info(
        "insight mined %d messages into %d topics (%d new) in %.1fs",
        summary.messages,
        summary.topics,
        summary.new_topics,
        summary.seconds,
    )
    return True
