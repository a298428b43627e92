"""The drift process: the durable consumer `drift`, the judging of days, and the weekly retraining.

`run_worker(settings, tz, propose=...)` runs until cancelled (`helixdesk drift run`; `helixdesk
serve` starts it as a child process). The consumer's reading and token cutting run at idle CPU
priority, and so do judging and training: on a busy machine drift monitoring falls behind rather
than take CPU from a customer's turn. It reads the event log every 5 seconds (`--poll`): a day's
figures need nothing fresher, and fewer, larger writes leave SQLite's one write lock to the turns.
Every `drift_judge_seconds`, once the consumer is within one batch of the head of the event log,
the days whose figures changed are judged (`drift.judge`); every `retrain_check_seconds` the
weekly retraining job runs if this week's has not (`drift.retrain`); once a day the token counts
older than the reference needs are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta, tzinfo

from sqlalchemy import and_, delete, not_
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.consumer import ConsumerOffset, DurableConsumer
from helixdesk.bus.outbox import last_log_seq
from helixdesk.core.clock import utcnow
from helixdesk.core.priority import lower_this_thread
from helixdesk.core.settings import Settings
from helixdesk.db.lease import try_acquire
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction
from helixdesk.drift.feed import CONSUMER, DriftFeed
from helixdesk.drift.judge import DriftJudge, Judged
from helixdesk.drift.models import DriftToken
from helixdesk.drift.reference import ModelHeldOut
from helixdesk.drift.retrain import Propose, due, run_weekly
from helixdesk.packs.loader import load_pack

log = logging.getLogger(__name__)
BATCH = 1000
TOKEN_MARGIN_DAYS = 7  # token counts kept beyond the reference window


def drift_consumer(
    sessions: sessionmaker[Session],
    tz: tzinfo,
    *,
    poll_seconds: float = 5.0,
    lease_seconds: float = 30.0,
    batch: int = BATCH,
) -> DurableConsumer:
    feed = DriftFeed(tz=tz)
    return DurableConsumer(
        name=CONSUMER,
        sessions=sessions,
        batch_handler=feed.handle,
        prepare=feed.prepare,
        prepare_at_idle=True,
        poll_interval=poll_seconds,
        lease_seconds=lease_seconds,
        batch=batch,
    )


def caught_up(s: Session, *, within: int = BATCH) -> bool:
    """The consumer is within `within` events of the head of the event log."""
    offset = s.get(ConsumerOffset, CONSUMER)
    return last_log_seq(s) - (offset.log_seq if offset is not None else 0) <= within


def prune_tokens(s: Session, before: date, keep: tuple[date, date] | None = None) -> int:
    """Delete token counts of days before `before` (except a pinned reference period's)."""
    condition = DriftToken.day < before
    if keep is not None:
        condition = and_(condition, not_(DriftToken.day.between(keep[0], keep[1])))
    return int(getattr(s.execute(delete(DriftToken).where(condition)), "rowcount", 0) or 0)


def judge_if_caught_up(sessions: sessionmaker[Session], judge: DriftJudge, holder: str) -> Judged | None:
    with reading(sessions) as s:
        if not caught_up(s):
            return None
    with transaction(sessions) as s:
        if not try_acquire(s, "drift-judge", holder, ttl=timedelta(minutes=10)):
            return None
    return judge.run()


async def run_worker(
    settings: Settings,
    tz: tzinfo,
    *,
    propose: Propose | None,
    poll_seconds: float = 5.0,
    judge_seconds: float | None = None,
    retrain_check_seconds: float = 600.0,
) -> None:
    judge_seconds = judge_seconds or settings.drift_judge_seconds
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    pack = load_pack(settings.pack)
    judge = DriftJudge.from_settings(
        settings,
        sessions,
        tz,
        pack.path,
        ModelHeldOut(model_dir=settings.model_dir / settings.pack / "intent", pack_path=pack.path),
    )
    consumer = drift_consumer(sessions, tz, poll_seconds=poll_seconds)
    idle = ThreadPoolExecutor(1, thread_name_prefix="drift-idle", initializer=lower_this_thread)
    holder = f"drift-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    judged_at = retrain_checked = pruned = utcnow() - timedelta(days=1)
    await consumer.start()
    log.info("drift monitoring started (consumer %s)", CONSUMER)
    try:
        while True:
            now = utcnow()
            try:
                if now - judged_at >= timedelta(seconds=judge_seconds):
                    judged_at = now
                    done = await asyncio.wrap_future(idle.submit(judge_if_caught_up, sessions, judge, holder))
                    if done is not None and done.raised:
                        log.warning("drift raised %d alarms: %s", len(done.raised), "; ".join(done.raised))
                if settings.drift_retrain_weekly and now - retrain_checked >= timedelta(
                    seconds=retrain_check_seconds
                ):
                    retrain_checked = now
                    with reading(sessions) as s:
                        weekly = due(s, now, tz)
                    if weekly:
                        await asyncio.wrap_future(
                            idle.submit(lambda: run_weekly(sessions, propose, tz=tz, holder=holder))
                        )
                if now - pruned >= timedelta(days=1):
                    pruned = now
                    keep_from = now.astimezone(tz).date() - timedelta(
                        days=settings.drift_reference_days + TOKEN_MARGIN_DAYS
                    )
                    with transaction(sessions) as s:
                        prune_tokens(s, keep_from, judge.pinned)
            except Exception:
                log.exception("drift step failed; it runs again shortly")
            await asyncio.sleep(min(judge_seconds, 5.0))
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        idle.shutdown(wait=False, cancel_futures=True)
        engine.dispose()
