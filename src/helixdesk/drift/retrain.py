"""The weekly retraining job: once an ISO week (the bank's time zone), propose a candidate model
from the labels resolved since the last proposal. It proposes and never promotes: the candidate
waits in the model registry for a person to read its report, pass the gate and run it in shadow.

The job knows the learning side through one callable, `Propose`: given the time from which labels
count as new, it trains and registers a candidate and returns its version, or returns None when no
label is new. Each week's run is a row of `drift_retrain_runs` (outcome `proposed`,
`no_new_labels`, `unavailable` when no proposer is installed, or `failed` with the error), so a
restart or a second drift process runs nothing twice; a failed run is tried again an hour later.
Labels count as new from the start of the last run that proposed a candidate or found none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.db.lease import release, try_acquire
from helixdesk.db.session import reading, transaction
from helixdesk.drift.board import retrain_view
from helixdesk.drift.models import DriftRetrainRun

log = logging.getLogger(__name__)

Propose = Callable[[datetime], str | None]
"""`propose(since)`: train and register a candidate from the labels resolved at or after `since`;
its version, or None when there are none. It must not promote."""

LEASE = "drift-retrain"
RETRY_FAILED = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_week(now: datetime, tz: tzinfo) -> str:
    year, week, _ = now.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def due(s: Session, now: datetime, tz: tzinfo) -> bool:
    """This week has no run yet, or only a failed one from more than an hour ago."""
    run = s.get(DriftRetrainRun, iso_week(now, tz))
    if run is None:
        return True
    return run.outcome == "failed" and (run.finished_at or run.started_at) <= now - RETRY_FAILED


def labels_since(s: Session, week: str) -> datetime:
    """When labels start counting as new: the start of the last run (before `week`) that proposed
    a candidate or found no new label."""
    last = s.scalar(
        select(DriftRetrainRun.started_at)
        .where(DriftRetrainRun.week < week, DriftRetrainRun.outcome.in_(("proposed", "no_new_labels")))
        .order_by(DriftRetrainRun.week.desc())
        .limit(1)
    )
    return last or EPOCH


def run_weekly(
    sessions: sessionmaker[Session],
    propose: Propose | None,
    *,
    tz: tzinfo,
    now: datetime | None = None,
    force: bool = False,
    holder: str = "retrain",
) -> dict[str, object] | None:
    """This week's run, unless it has run (`force`: run again); returns the run (None: another
    process is running it)."""
    now = now or utcnow()
    week = iso_week(now, tz)
    with transaction(sessions) as s:
        if not force and not due(s, now, tz):
            return retrain_view(s.get(DriftRetrainRun, week))
        if not try_acquire(s, LEASE, holder, ttl=timedelta(hours=2)):
            return None
        since = labels_since(s, week)
        run = s.get(DriftRetrainRun, week)
        if run is None:
            run = DriftRetrainRun(week=week)
            s.add(run)
        run.started_at, run.finished_at = now, None
        run.outcome, run.candidate, run.detail = "running", None, ""
    outcome, candidate, detail = "unavailable", None, "no model registry is installed to propose a candidate"
    try:
        if propose is not None:
            candidate = propose(since)
            outcome = "proposed" if candidate else "no_new_labels"
            detail = "" if candidate else f"no label resolved since {since.isoformat()}"
    except Exception as e:  # a failed training run is recorded and tried again later
        log.exception("drift: the weekly retraining job failed")
        outcome, detail = "failed", f"{type(e).__name__}: {e}"[:1000]
    with transaction(sessions) as s:
        run = s.get(DriftRetrainRun, week)
        assert run is not None
        run.outcome, run.candidate, run.detail, run.finished_at = outcome, candidate, detail, utcnow()
        release(s, LEASE, holder)
    if candidate:
        log.info("drift: proposed candidate %s for review (not promoted)", candidate)
    with reading(sessions) as s:
        return retrain_view(s.get(DriftRetrainRun, week))
