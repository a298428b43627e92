"""Spikes that may be incidents: when many customers suddenly ask the same thing, the incident
register's page suggests opening an incident for it.

    spikes = SpikeSuggestions(sessions=sessions, audit=audit)
    spikes.suggestions()                    # {"mined_until": ..., "suggestions": [...]}
    spikes.dismiss(author, "t-3f9a1c")      # "not an incident": stored, audited, not suggested again

A suggestion is a hotspot that spikes (`hotspots.is_spike`, the report's one definition) in the
last day or the last week of the latest mining run (both periods end where the run's window
ends), and that

- no incident covers: none linked to the hotspot (`incidents.hotspot_id`, set when an incident is
  opened from the suggestion) is open or monitoring, or was resolved after the week began;
- no operator dismissed (`incident_spike_dismissals`, one row per hotspot).

Each suggestion carries the hotspot's keywords, its message nearest the centre in each language
(`labels`: what the page shows in its own language and offers as the incident's title), its size
against its usual count in each period it spikes in, the channels its messages came from in the
week, and the link to its page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.core.clock import utcnow
from helixdesk.core.languages import LANGUAGES
from helixdesk.db.session import reading, transaction
from helixdesk.incidents.errors import HotspotNotFoundError
from helixdesk.incidents.models import IncidentRow, SpikeDismissalRow
from helixdesk.incidents.register import Author
from helixdesk.incidents.rules import OPEN_STATUSES
from helixdesk.insight.hotspots import Filters, Hotspot, Period, hotspots, representatives
from helixdesk.insight.models import InsightMessage, InsightRun, InsightTopic

WINDOWS: tuple[Literal["day", "week"], ...] = ("day", "week")
LINK = "/console/insight/topics/{topic_id}?period={period}"


def hotspot_known(s: Session, hotspot_id: str) -> bool:
    """Whether a hotspot has this id (the register's check when an incident is opened from one)."""
    return len(hotspot_id) <= 16 and s.get(InsightTopic, hotspot_id) is not None


def latest_run_until(s: Session) -> datetime | None:
    """Where the latest finished mining run's window ends: the periods a suggestion is read in."""
    return s.scalar(
        select(InsightRun.until)
        .where(InsightRun.finished_at.is_not(None))
        .order_by(InsightRun.id.desc())
        .limit(1)
    )


def spiking(s: Session, until: datetime) -> dict[str, list[tuple[Period, Hotspot]]]:
    """Each hotspot spiking in the last day or week before `until`, with the periods it spikes in."""
    out: dict[str, list[tuple[Period, Hotspot]]] = {}
    for kind in WINDOWS:
        period = Period.last(kind, until)
        for h in hotspots(s, period, examples=False).spikes:
            out.setdefault(h.topic_id, []).append((period, h))
    return out


def covered(s: Session, ids: list[str], since: datetime) -> set[str]:
    """The hotspots an incident covers: one linked to it is open or monitoring, or was resolved
    after `since` (it dealt with this spike)."""
    if not ids:
        return set()
    rows = s.scalars(
        select(IncidentRow.hotspot_id).where(
            IncidentRow.hotspot_id.in_(ids),
            or_(IncidentRow.status.in_(OPEN_STATUSES), IncidentRow.resolved_at > since),
        )
    )
    return {str(r) for r in rows}


def dismissed(s: Session, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(s.scalars(select(SpikeDismissalRow.hotspot_id).where(SpikeDismissalRow.hotspot_id.in_(ids))))


def _channels(s: Session, topic_id: str, period: Period) -> list[str]:
    """The channels the hotspot's messages came from in the period, most messages first."""
    rows = s.execute(
        select(InsightMessage.channel, func.count())
        .where(
            InsightMessage.topic_id == topic_id,
            InsightMessage.at >= period.since,
            InsightMessage.at < period.until,
        )
        .group_by(InsightMessage.channel)
    ).all()
    return [str(c) for c, _ in sorted(rows, key=lambda r: (-int(r[1]), str(r[0])))]


def _labels(s: Session, topic_id: str, period: Period) -> dict[str, str]:
    """The hotspot's message nearest its centre in each language its customers wrote in."""
    out: dict[str, str] = {}
    for language in LANGUAGES:
        found = representatives(s, topic_id, period, Filters(language=language), n=1)
        if found:
            out[language] = found[0]["text"]
    return out


def _kind(period: Period) -> str:
    return "day" if period.length.days == 1 else "week"


def _suggestion(s: Session, topic_id: str, found: list[tuple[Period, Hotspot]]) -> dict[str, Any]:
    week = Period.last("week", found[0][0].until)
    keywords = found[-1][1].keywords
    return {
        "hotspot_id": topic_id,
        "keywords": keywords,
        "labels": _labels(s, topic_id, week),
        "spikes": [
            {
                "period": _kind(period),
                "since": period.since.isoformat(),
                "until": period.until.isoformat(),
                "size": h.size,
                "usual": h.baseline,
                "previous": h.previous,
            }
            for period, h in found
        ],
        "languages": found[-1][1].languages,
        "channels": _channels(s, topic_id, week),
        "link": LINK.format(topic_id=topic_id, period=_kind(found[0][0])),
    }


def suggestions(s: Session) -> dict[str, Any]:
    """The suggestions of the latest mining run, those spiking in the last day first, then the
    largest; `mined_until`: where that run's window ends (None before the first run)."""
    until = latest_run_until(s)
    if until is None:
        return {"mined_until": None, "suggestions": []}
    found = spiking(s, until)
    ids = sorted(found)
    skip = covered(s, ids, Period.last("week", until).since) | dismissed(s, ids)
    made = [_suggestion(s, tid, found[tid]) for tid in ids if tid not in skip]
    made.sort(key=lambda x: (x["spikes"][0]["period"] != "day", -x["spikes"][-1]["size"], x["hotspot_id"]))
    return {"mined_until": until.isoformat(), "suggestions": made}


class SpikeSuggestions:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self.clock = clock

    def suggestions(self) -> dict[str, Any]:
        with reading(self._sessions) as s:
            return suggestions(s)

    def dismiss(self, by: Author, hotspot_id: str) -> dict[str, Any]:
        """ "Not an incident": stored once per hotspot and audited (`incident.spike_dismissed`); the
        hotspot is not suggested again. Dismissing it again changes nothing."""
        try:
            return self._dismiss(by, hotspot_id)
        except IntegrityError:  # dismissed by someone else at the same moment: theirs stands
            with reading(self._sessions) as s:
                row = s.get(SpikeDismissalRow, hotspot_id)
                assert row is not None
                return _dismissal(row)

    def _dismiss(self, by: Author, hotspot_id: str) -> dict[str, Any]:
        now = self.clock()
        with transaction(self._sessions) as s:
            if not hotspot_known(s, hotspot_id):
                raise HotspotNotFoundError(f"no hotspot {hotspot_id[:40]}")
            row = s.get(SpikeDismissalRow, hotspot_id, with_for_update=True)
            if row is None:
                row = SpikeDismissalRow(
                    hotspot_id=hotspot_id,
                    dismissed_by=by.id[:128],
                    dismissed_by_name=by.name[:128],
                    dismissed_at=now,
                )
                s.add(row)
                s.flush()
                self._record(s, by, hotspot_id)
            return _dismissal(row)

    def _record(self, s: Session, by: Author, hotspot_id: str) -> None:
        if self._audit is None:
            return
        actor = (
            Actor.system(by.name)
            if by.id.startswith("system:")
            else Actor.staff(by.id, ip=by.ip, channel="console")
        )
        self._audit.record(
            s,
            actor=actor,
            action="incident.spike_dismissed",
            target=Target("hotspot", hotspot_id),
            reason="not an incident",
        )


def _dismissal(row: SpikeDismissalRow) -> dict[str, Any]:
    return {
        "hotspot_id": row.hotspot_id,
        "dismissed_by": row.dismissed_by,
        "dismissed_by_name": row.dismissed_by_name,
        "dismissed_at": row.dismissed_at.isoformat(),
    }
