"""The weekly retraining job on SQLite and PostgreSQL: once an ISO week, it asks the proposer for a
candidate from the labels since the last proposal; it records no new labels, a missing registry
and a failure (tried again an hour later). It knows the registry through `propose(since)` only, so
it has no way to make a model live.

The proposer here records its calls and answers as the model registry's `propose_candidate`
does (a candidate's version, or None when no label is new): the registry is not part of this
package (see docs/drift.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helixdesk.core.timezones import zone
from helixdesk.db.session import reading
from helixdesk.drift.models import DriftRetrainRun
from helixdesk.drift.retrain import EPOCH, due, iso_week, run_weekly

TZ = zone("Asia/Shanghai")
MONDAY = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 on Monday 30 November in Shanghai


class Proposer:
    """Answers with the next of `answers` (a version, None, or an exception to raise)."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls: list[datetime] = []

    def __call__(self, since: datetime) -> str | None:
        self.calls.append(since)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]


def test_weeks_are_iso_weeks_in_the_banks_time_zone():
    assert iso_week(MONDAY, TZ) == "2026-W49"
    assert iso_week(datetime(2026, 11, 29, 17, 0, tzinfo=UTC), TZ) == "2026-W49"  # Monday 01:00 there
    assert iso_week(datetime(2026, 11, 29, 15, 0, tzinfo=UTC), TZ) == "2026-W48"  # still Sunday there


def test_it_proposes_once_a_week_from_the_labels_since_the_last_proposal(sessions):
    propose = Proposer("20261130T010000Z-aa", "20261207T010000Z-bb", None)
    run = run_weekly(sessions, propose, tz=TZ, now=MONDAY)
    assert run is not None and run["outcome"] == "proposed" and run["candidate"] == "20261130T010000Z-aa"
    assert propose.calls == [EPOCH]  # the first run: every label is new
    # Later the same week: nothing runs again.
    again = run_weekly(sessions, propose, tz=TZ, now=MONDAY + timedelta(days=3))
    assert again == run and len(propose.calls) == 1
    # Next week: the labels since the start of last week's run.
    nxt = run_weekly(sessions, propose, tz=TZ, now=MONDAY + timedelta(days=7))
    assert nxt is not None and nxt["week"] == "2026-W50" and nxt["candidate"] == "20261207T010000Z-bb"
    assert propose.calls[1] == MONDAY
    # The week after: no label since; nothing trained, and the next week counts from this run.
    quiet = run_weekly(sessions, propose, tz=TZ, now=MONDAY + timedelta(days=14))
    assert quiet is not None and quiet["outcome"] == "no_new_labels" and quiet["candidate"] is None
    assert propose.calls[2] == MONDAY + timedelta(days=7)
    with reading(sessions) as s:
        assert s.get(DriftRetrainRun, "2026-W51").outcome == "no_new_labels"  # type: ignore[union-attr]


def test_a_failed_run_is_recorded_and_tried_again_an_hour_later(sessions):
    propose = Proposer(RuntimeError("out of disk space"), "20261130T030000Z-cc")
    run = run_weekly(sessions, propose, tz=TZ, now=MONDAY)
    assert run is not None and run["outcome"] == "failed" and "out of disk space" in str(run["detail"])
    with reading(sessions) as s:
        finished = s.get(DriftRetrainRun, "2026-W49").finished_at  # type: ignore[union-attr]
        assert finished is not None
        assert not due(s, finished + timedelta(minutes=30), TZ)
        assert due(s, finished + timedelta(minutes=61), TZ)
    retried = run_weekly(sessions, propose, tz=TZ, now=finished + timedelta(minutes=61))
    assert retried is not None and retried["outcome"] == "proposed"
    assert propose.calls == [EPOCH, EPOCH]  # a failed run does not move where new labels start


def test_without_a_registry_the_run_says_so_and_force_runs_again(sessions):
    run = run_weekly(sessions, None, tz=TZ, now=MONDAY)
    assert run is not None and run["outcome"] == "unavailable"
    with reading(sessions) as s:
        assert not due(s, MONDAY + timedelta(hours=2), TZ)
    propose = Proposer("20261130T050000Z-dd")
    forced = run_weekly(sessions, propose, tz=TZ, now=MONDAY + timedelta(hours=2), force=True)
    assert forced is not None and forced["outcome"] == "proposed" and propose.calls == [EPOCH]
