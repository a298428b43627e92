"""The analytics process: the durable consumer `analytics`, which keeps the facts and rollups of the
dashboards up to date (`helixdesk analytics run`; `helixdesk serve` starts it as a child process).
Reading and computing run on a thread at idle CPU priority; each write is short.

It also writes the scheduled PDF reports (`analytics.schedule`) into `analytics_reports_dir`: it
looks every `REPORT_CHECK_SECONDS` for a daily or weekly report that is due and not written yet."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import tzinfo

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.analytics.feed import CONSUMER, AnalyticsFeed
from helixdesk.analytics.metrics import CostModel
from helixdesk.analytics.service import AnalyticsReader
from helixdesk.bus.consumer import DurableConsumer
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.handoff.packet import Labels
from helixdesk.packs.loader import load_pack

log = logging.getLogger(__name__)
REPORT_CHECK_SECONDS = 60.0


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
    reports = (
        asyncio.create_task(scheduled_reports(settings, sessions, tz))
        if settings.analytics_reports_dir
        else None
    )
    try:
        await asyncio.Event().wait()
    finally:
        if reports is not None:
            reports.cancel()
            with contextlib.suppress(BaseException):
                await reports
        with contextlib.suppress(Exception):
            await consumer.stop()
        engine.dispose()


def report_writer(settings: Settings, sessions: sessionmaker[Session], tz: tzinfo) -> AnalyticsReader:
    """The reader that renders the scheduled reports, with the pack's labels."""
    pack = load_pack(settings.pack)
    return AnalyticsReader(
        sessions=sessions,
        tz=tz,
        cost=CostModel.from_settings(settings),
        labels=Labels.load(pack.path / "handoff" / "labels.yaml"),
        reports_dir=settings.analytics_reports_dir,
    )


async def scheduled_reports(
    settings: Settings, sessions: sessionmaker[Session], tz: tzinfo, *, every: float = REPORT_CHECK_SECONDS
) -> None:
    """Write the daily and weekly reports when they are due, until cancelled."""
    reader = report_writer(settings, sessions, tz)
    while True:
        try:
            written = await asyncio.to_thread(
                reader.write_scheduled, language=settings.analytics_reports_language
            )
            for path in written:
                log.info("analytics wrote the scheduled report %s", path)
        except Exception:  # a full disk or an unreadable folder must not stop the consumer
            log.exception("analytics could not write a scheduled report; trying again later")
        await asyncio.sleep(every)
