"""Judging days: each day whose figures changed since it was last judged is measured against its
reference per scope (`all` and each language), the judgement is stored (`drift_checks`), and a
measure beyond its threshold raises an alarm, once per day, scope and measure (`drift_alarms`), for
the days of the last week (`ALARM_DAYS`).

Reading and computing happen in a read-only session; the write is one short transaction. The
drift process runs `DriftJudge.run` every minute once its consumer is near the head of the event
log (a half-read history would be judged against a half-read reference), and `helixdesk drift
report` measures a day the same way without storing anything.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.core.settings import Settings
from helixdesk.db.session import reading, transaction
from helixdesk.drift.measures import Measure, Thresholds, judge, seed_for
from helixdesk.drift.models import AlarmStatus, DriftAlarm, DriftCheck, DriftDay, DriftToken
from helixdesk.drift.reference import (
    ALL,
    SCOPES,
    HeldOut,
    Reference,
    figures_of,
    heldout_figures,
    history,
    period,
    store_training,
    stored_training,
)
from helixdesk.drift.vocabulary import pack_vocabulary

log = logging.getLogger(__name__)
# Alarms are news: a day older than this (history read when drift monitoring first starts, or
# after a long stop) has its judgement stored and shown, without raising an alarm.
ALARM_DAYS = 7


@dataclass(frozen=True, slots=True)
class ScopeCheck:
    day: date
    scope: str
    messages: int
    reference: Reference | None
    measures: list[Measure] = field(default_factory=list)

    @property
    def beyond(self) -> list[Measure]:
        return [m for m in self.measures if m.beyond]

    def to_dict(self) -> dict[str, object]:
        ref = self.reference
        return {
            "day": self.day.isoformat(),
            "scope": self.scope,
            "messages": self.messages,
            "reference": None
            if ref is None
            else {
                "kind": ref.kind,
                "first": ref.first.isoformat() if ref.first else None,
                "last": ref.last.isoformat() if ref.last else None,
                "messages": ref.baseline.figures.messages,
            },
            "measures": [m.to_dict() for m in self.measures],
        }


@dataclass(frozen=True, slots=True)
class Judged:
    days: list[date]
    raised: list[str]  # "day scope measure" of the alarms raised now


class DriftJudge:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        tz: tzinfo,
        pack_path: Path,
        thresholds: Thresholds | None = None,
        reference_days: int = 28,
        pinned: tuple[date, date] | None = None,
        held_out: HeldOut | None = None,
    ) -> None:
        self.sessions = sessions
        self.tz = tz
        self.thresholds = thresholds or Thresholds()
        self.reference_days = reference_days
        self.pinned = pinned
        self.held_out = held_out
        self.vocabulary = pack_vocabulary(pack_path)
        self._training: tuple[str, dict[str, Reference]] | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        sessions: sessionmaker[Session],
        tz: tzinfo,
        pack_path: Path,
        held_out: HeldOut | None,
    ) -> DriftJudge:
        start, end = settings.drift_reference_start, settings.drift_reference_end
        return cls(
            sessions=sessions,
            tz=tz,
            pack_path=pack_path,
            thresholds=Thresholds.from_settings(settings),
            reference_days=settings.drift_reference_days,
            pinned=(start, end) if start is not None and end is not None else None,
            held_out=held_out,
        )

    # ---- measuring -----------------------------------------------------------------------------

    def checks(self, s: Session, day: date) -> list[ScopeCheck]:
        """Every scope of `day` measured against its reference (reads only)."""
        figures = figures_of(s.scalars(select(DriftDay).where(DriftDay.day == day)))
        kind, first, last = period(day, days=self.reference_days, pinned=self.pinned)
        refs: dict[str, Reference] = (
            history(s, kind, first, last, judged=day, training_vocabulary=self.vocabulary) or {}
        )
        enough = self.thresholds.min_messages
        if any(refs.get(scope) is None or refs[scope].baseline.figures.messages < enough for scope in SCOPES):
            training = self.training_reference()
            for scope in SCOPES:
                if (refs.get(scope) is None or refs[scope].baseline.figures.messages < enough) and training:
                    refs[scope] = training[scope]
        words: dict[str, Counter[str]] = {scope: Counter() for scope in SCOPES}
        for language, token, count in s.execute(
            select(DriftToken.language, DriftToken.token, DriftToken.count).where(DriftToken.day == day)
        ):
            for scope in (ALL, language):
                if scope in words:
                    words[scope][token] += count
        out = []
        for scope in SCOPES:
            ref = refs.get(scope)
            vocabulary = ref.vocabulary if ref is not None else self.vocabulary
            new = Counter({t: c for t, c in words[scope].items() if t not in vocabulary})
            measures = judge(
                figures[scope],
                new,
                ref.baseline if ref is not None else None,
                self.thresholds,
                seed=seed_for(day, scope),
            )
            out.append(ScopeCheck(day, scope, figures[scope].messages, ref, measures))
        return out

    def training_reference(self) -> dict[str, Reference] | None:
        """The live model's training reference: read from the database, or computed (the model
        reads the held-out examples, outside any transaction) and stored the first time."""
        if self.held_out is None:
            return None
        version = self.held_out.version()
        if version is None:
            return None
        if self._training is not None and self._training[0] == version:
            return self._training[1]
        with reading(self.sessions) as s:
            refs = stored_training(s, version, self.vocabulary)
        if refs is None:
            log.info("drift: reading the held-out examples with model %s for the training reference", version)
            figures = heldout_figures(self.held_out.readings(), self.vocabulary)
            with transaction(self.sessions) as s:
                store_training(s, version, figures)
            with reading(self.sessions) as s:
                refs = stored_training(s, version, self.vocabulary)
        if refs is not None:
            self._training = (version, refs)
        return refs

    # ---- judging and storing ---------------------------------------------------------------------

    def due(self, s: Session) -> list[date]:
        """Days whose figures changed since they were last judged, oldest first."""
        updated: dict[date, datetime] = {
            day: at
            for day, at in s.execute(
                select(DriftDay.day, func.max(DriftDay.updated_at)).group_by(DriftDay.day)
            )
        }
        judged: dict[date, datetime] = {
            day: at
            for day, at in s.execute(
                select(DriftCheck.day, DriftCheck.judged_at).where(DriftCheck.scope == ALL)
            )
        }
        return sorted(day for day, at in updated.items() if day not in judged or judged[day] < at)

    def run(self, days: Sequence[date] | None = None) -> Judged:
        """Judge the due days (or `days`), store the judgements and raise alarms for the days of
        the last `ALARM_DAYS`."""
        recent = utcnow().astimezone(self.tz).date() - timedelta(days=ALARM_DAYS)
        with reading(self.sessions) as s:
            todo = list(days) if days is not None else self.due(s)
        raised: list[str] = []
        for day in todo:
            with reading(self.sessions) as s:
                checks = self.checks(s, day)
            with transaction(self.sessions) as s:
                raised += store_checks(s, checks, alarms=day >= recent)
        return Judged(days=todo, raised=raised)


def store_checks(s: Session, checks: Sequence[ScopeCheck], *, alarms: bool = True) -> list[str]:
    """Store a day's judgements and (with `alarms`) raise or update its alarms; returns the alarms
    raised now."""
    now = utcnow()
    raised: list[str] = []
    for check in checks:
        row = s.get(DriftCheck, (check.day, check.scope))
        if row is None:
            row = DriftCheck(day=check.day, scope=check.scope)
            s.add(row)
        ref = check.reference
        row.messages = check.messages
        row.reference_kind = ref.kind if ref is not None else "none"
        row.reference_first = ref.first if ref is not None else None
        row.reference_last = ref.last if ref is not None else None
        row.reference_messages = ref.baseline.figures.messages if ref is not None else 0
        row.measures = [m.to_dict() for m in check.measures]
        row.judged_at = now
        for m in check.beyond if alarms else ():
            alarm = s.scalar(
                select(DriftAlarm).where(
                    DriftAlarm.day == check.day, DriftAlarm.scope == check.scope, DriftAlarm.measure == m.name
                )
            )
            figures = {
                "value": float(m.value or 0.0),
                "reference": float(m.reference or 0.0),
                "threshold": m.threshold,
                "messages": check.messages,
                "reference_kind": row.reference_kind,
                "detail": m.detail,
                "updated_at": now,
            }
            if alarm is None:
                s.add(
                    DriftAlarm(
                        day=check.day,
                        scope=check.scope,
                        measure=m.name,
                        status=AlarmStatus.OPEN.value,
                        raised_at=now,
                        **figures,
                    )
                )
                raised.append(f"{check.day} {check.scope} {m.name}")
                log.warning(
                    "drift alarm: %s on %s (%s): %.3f against %.3f",
                    m.name,
                    check.day,
                    check.scope,
                    m.value or 0.0,
                    m.reference or 0.0,
                )
            elif alarm.status == AlarmStatus.OPEN.value:
                for key, value in figures.items():
                    setattr(alarm, key, value)
    return raised
