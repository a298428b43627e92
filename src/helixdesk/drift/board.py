"""Drift in the console: the alarms (the supervisor's board, the analytics page) and the daily
measures of a period (the analytics page, `helixdesk drift report`).

Resolving an alarm records who resolved it, when and their note; a day with an open alarm is left
out of later days' references until then (`drift.reference`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.auth.models import StaffUser
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConflictError, NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.drift.measures import MEASURES
from helixdesk.drift.models import AlarmStatus, DriftAlarm, DriftCheck, DriftRetrainRun
from helixdesk.drift.reference import SCOPES

STATUSES = ("open", "resolved", "all")


class DriftBoard:
    def __init__(self, *, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def alarms(
        self,
        *,
        status: str = "open",
        first: date | None = None,
        last: date | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Alarms (open ones by default), the latest day first."""
        if status not in STATUSES:
            raise ValidationFailedError("status is open, resolved or all", code="invalid_status")
        query = select(DriftAlarm, StaffUser.display_name).outerjoin(
            StaffUser, StaffUser.id == DriftAlarm.resolved_by
        )
        if status != "all":
            query = query.where(DriftAlarm.status == status)
        if first is not None:
            query = query.where(DriftAlarm.day >= first)
        if last is not None:
            query = query.where(DriftAlarm.day <= last)
        query = query.order_by(DriftAlarm.day.desc(), DriftAlarm.raised_at.desc(), DriftAlarm.id).limit(limit)
        with reading(self._sessions) as s:
            found = [alarm_view(a, name) for a, name in s.execute(query)]
        # A day's alarms together: all languages first, then each language; the measures in order.
        return sorted(
            found,
            key=lambda a: (
                -date.fromisoformat(a["day"]).toordinal(),
                SCOPES.index(a["scope"]) if a["scope"] in SCOPES else len(SCOPES),
                MEASURES.index(a["measure"]) if a["measure"] in MEASURES else len(MEASURES),
            ),
        )

    def resolve(self, alarm_id: str, user_id: str | None, *, note: str = "") -> dict[str, Any]:
        """A person has looked into the alarm (`drift_alarm_not_found`, `drift_alarm_resolved`)."""
        with transaction(self._sessions) as s:
            alarm = s.get(DriftAlarm, alarm_id, with_for_update=True)
            if alarm is None:
                raise NotFoundError(f"no drift alarm {alarm_id}", code="drift_alarm_not_found")
            if alarm.status == AlarmStatus.RESOLVED.value:
                raise ConflictError(
                    f"drift alarm {alarm_id} is resolved already", code="drift_alarm_resolved"
                )
            alarm.status = AlarmStatus.RESOLVED.value
            alarm.resolved_at = utcnow()
            alarm.resolved_by = user_id
            alarm.note = note.strip()
            name = (
                s.scalar(select(StaffUser.display_name).where(StaffUser.id == user_id)) if user_id else None
            )
            return alarm_view(alarm, name)

    def days(self, first: date, last: date, *, scope: str = "all") -> dict[str, Any]:
        """The stored judgement of every day of a period (`scope`: all or a language), with its
        alarms, and the latest weekly retraining run."""
        if scope not in SCOPES:
            raise ValidationFailedError(f"scope is one of {', '.join(SCOPES)}", code="invalid_scope")
        with reading(self._sessions) as s:
            checks = {
                c.day: c
                for c in s.scalars(
                    select(DriftCheck).where(DriftCheck.day.between(first, last), DriftCheck.scope == scope)
                )
            }
            run = s.scalar(select(DriftRetrainRun).order_by(DriftRetrainRun.week.desc()).limit(1))
        alarms = [
            a for a in self.alarms(status="all", first=first, last=last, limit=1000) if a["scope"] == scope
        ]
        days = []
        day = first
        while day <= last:
            check = checks.get(day)
            days.append(check_view(check) if check is not None else {"day": day.isoformat(), "judged": False})
            day = date.fromordinal(day.toordinal() + 1)
        return {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "scope": scope,
            "measures": list(MEASURES),
            "days": days,
            "alarms": alarms,
            "retraining": retrain_view(run),
        }


def _iso(at: datetime | date | None) -> str | None:
    return at.isoformat() if at is not None else None


def alarm_view(a: DriftAlarm, resolved_by_name: str | None = None) -> dict[str, Any]:
    return {
        "id": a.id,
        "day": a.day.isoformat(),
        "scope": a.scope,
        "measure": a.measure,
        "value": round(a.value, 4),
        "reference": round(a.reference, 4),
        "threshold": a.threshold,
        "messages": a.messages,
        "reference_kind": a.reference_kind,
        "detail": a.detail or [],
        "status": a.status,
        "raised_at": _iso(a.raised_at),
        "resolved_at": _iso(a.resolved_at),
        "resolved_by": resolved_by_name,
        "note": a.note,
    }


def check_view(c: DriftCheck) -> dict[str, Any]:
    return {
        "day": c.day.isoformat(),
        "judged": True,
        "messages": c.messages,
        "reference": {
            "kind": c.reference_kind,
            "first": _iso(c.reference_first),
            "last": _iso(c.reference_last),
            "messages": c.reference_messages,
        },
        "measures": c.measures,
        "judged_at": _iso(c.judged_at),
    }


def retrain_view(run: DriftRetrainRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "week": run.week,
        "outcome": run.outcome,
        "candidate": run.candidate,
        "detail": run.detail,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }
