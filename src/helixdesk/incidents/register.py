"""The incident register: record, change and resolve incidents; what a turn reads and stores.

    register = IncidentRegister(sessions=sessions, audit=audit)
    made = register.create(Author("u-7", "周航"), IncidentDraft(kind="outage", title={...}, ...))
    register.update(author, made["id"], {"expected_fix_at": later}, version=made["version"])
    register.resolve(author, made["id"], note="fixed by a restart")
    register.incidents(status="active")     # with how many conversations each one explained
    register.create(author, draft, hotspot_id="t-3f9a1c", note="...")  # opened from a hotspot's spike

Every change writes the incident's whole state as a new version (`incident_versions`) and an audit
entry (`incident.created`, `incident.updated`, `incident.resolved`) in the same transaction. A
resolved incident is history and is not changed again.

For the bot's turn (inside the caller's transaction): `active_incidents(s, now)` reads the incidents
active now, once, where the turn is claimed; `record_explanations` stores the explanations the turn
gave, with the turn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, func, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading, transaction
from helixdesk.incidents.checks import FIELDS, IncidentDraft, check_incident, check_resolution
from helixdesk.incidents.errors import (
    HotspotNotFoundError,
    IncidentChangedError,
    IncidentNotFoundError,
    IncidentResolvedError,
    InvalidIncidentError,
)
from helixdesk.incidents.models import IncidentExplanationRow, IncidentRow, IncidentVersionRow
from helixdesk.incidents.regions import canonical_region
from helixdesk.incidents.rules import OPEN_STATUSES, STATUSES, Incident, is_active

# `list(status=...)`: one status, "active" (open or monitoring), or None for all of them.
STATUS_FILTERS: tuple[str, ...] = ("active", *STATUSES)
MAX_LIST = 500
MAX_NOTE = 400
# Whether an insight hotspot with this id exists, read in the caller's transaction (insight is a
# layer above the register: the container passes insight's check in).
HotspotCheck = Callable[[Session, str], bool]


@dataclass(frozen=True, slots=True)
class Author:
    """Who made a change: a staff id and display name, or a system actor (`system:cli`)."""

    id: str
    name: str
    ip: str | None = None  # where the change came from (written to the audit log)

    @classmethod
    def system(cls, name: str) -> Author:
        return cls(f"system:{name}", name)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _state(row: IncidentRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "title": dict(row.title),
        "explanation": dict(row.explanation),
        "products": list(row.products or []),
        "channels": list(row.channels or []),
        "regions": list(row.regions or []),
        "started_at": _iso(row.started_at),
        "expected_fix_at": _iso(row.expected_fix_at),
        "status": row.status,
        "resolved_at": _iso(row.resolved_at),
        "hotspot_id": row.hotspot_id,
    }


def _draft(row: IncidentRow) -> IncidentDraft:
    return IncidentDraft(
        kind=row.kind,
        title=dict(row.title),
        explanation=dict(row.explanation),
        products=list(row.products or []),
        channels=list(row.channels or []),
        regions=list(row.regions or []),
        started_at=row.started_at,
        expected_fix_at=row.expected_fix_at,
        status=row.status,
    )


def incident_of(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        kind=row.kind,
        title=dict(row.title),
        explanation=dict(row.explanation),
        products=frozenset(row.products or ()),
        channels=frozenset(row.channels or ()),
        regions=frozenset(canonical_region(r) for r in row.regions or ()),
        started_at=row.started_at,
        expected_fix_at=row.expected_fix_at,
        status=row.status,
        resolved_at=row.resolved_at,
        version=row.version,
    )


# ---- what a turn reads and stores (inside the turn's transaction) ------------------------------------


_INCIDENTS: Table = IncidentRow.__table__  # type: ignore[assignment]
_VIEW_COLUMNS = [
    _INCIDENTS.c[name]
    for name in (
        "id",
        "kind",
        "title",
        "explanation",
        "products",
        "channels",
        "regions",
        "started_at",
        "expected_fix_at",
        "status",
        "resolved_at",
        "version",
    )
]
# Two parts that each use an index, so years of resolved incidents cost nothing: the open and
# monitoring incidents that have started (by status and start), and those resolved after the time
# asked about (by resolution time; only a turn about a past moment finds any). With the status
# named in the second part, SQLite would walk every resolved incident by the first index instead.
_ACTIVE = union_all(
    select(*_VIEW_COLUMNS).where(
        _INCIDENTS.c.status.in_(OPEN_STATUSES), _INCIDENTS.c.started_at <= bindparam("now")
    ),
    select(*_VIEW_COLUMNS).where(_INCIDENTS.c.resolved_at > bindparam("now")),
)


def active_incidents(s: Session, now: datetime) -> tuple[Incident, ...]:
    """The incidents active at `now`, oldest first (one statement, Core rows: it runs in the
    transaction that claims a turn, where every millisecond counts on SQLite)."""
    found = [
        Incident(
            id=r.id,
            kind=r.kind,
            title=dict(r.title),
            explanation=dict(r.explanation),
            products=frozenset(r.products or ()),
            channels=frozenset(r.channels or ()),
            regions=frozenset(canonical_region(x) for x in r.regions or ()),
            started_at=r.started_at,
            expected_fix_at=r.expected_fix_at,
            status=r.status,
            resolved_at=r.resolved_at,
            version=r.version,
        )
        for r in s.connection().execute(_ACTIVE, {"now": now})
        if r.started_at <= now
    ]
    found.sort(key=lambda i: (i.started_at, i.id))
    return tuple(found)


def record_explanations(
    s: Session,
    explained: Sequence[tuple[str, int]],
    *,
    conversation_id: str,
    message_id: str,
    language: str,
    at: datetime,
) -> None:
    """Store that the turn told this conversation's customer about each incident (id, version)."""
    for incident_id, version in explained:
        s.add(
            IncidentExplanationRow(
                incident_id=incident_id,
                conversation_id=conversation_id,
                message_id=message_id,
                version=version,
                language=language,
                explained_at=at,
            )
        )


def explained_counts(s: Session, incident_ids: Sequence[str]) -> dict[str, int]:
    """How many conversations each incident was explained in."""
    if not incident_ids:
        return {}
    rows = s.execute(
        select(IncidentExplanationRow.incident_id, func.count(IncidentExplanationRow.id))
        .where(IncidentExplanationRow.incident_id.in_(list(incident_ids)))
        .group_by(IncidentExplanationRow.incident_id)
    )
    return {incident_id: int(n) for incident_id, n in rows}


# ---- the register -----------------------------------------------------------------------------------


class IncidentRegister:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = utcnow,
        hotspot_known: HotspotCheck | None = None,
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self.clock = clock
        self._hotspot_known = hotspot_known

    # ---- reading ------------------------------------------------------------------------------------

    def incidents(self, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """The incidents, open and monitoring first (newest start first), then resolved ones (newest
        first), with `explained`: the conversations each one was explained in."""
        if status is not None and status not in STATUS_FILTERS:
            raise InvalidIncidentError(f"status must be one of {', '.join(STATUS_FILTERS)}, not {status!r}")
        limit = max(1, min(limit, MAX_LIST))
        query = select(IncidentRow)
        if status == "active":
            query = query.where(IncidentRow.status.in_(OPEN_STATUSES))
        elif status is not None:
            query = query.where(IncidentRow.status == status)
        query = query.order_by(
            case((IncidentRow.status == "resolved", 1), else_=0),
            IncidentRow.started_at.desc(),
            IncidentRow.id,
        ).limit(limit)
        now = self.clock()
        with reading(self._sessions) as s:
            rows = s.scalars(query).all()
            counts = explained_counts(s, [r.id for r in rows])
            return [_view(r, counts.get(r.id, 0), now) for r in rows]

    def get(self, incident_id: str) -> dict[str, Any]:
        """One incident with its versions, newest first."""
        with reading(self._sessions) as s:
            row = s.get(IncidentRow, incident_id)
            if row is None:
                raise IncidentNotFoundError(f"no incident {incident_id}")
            counts = explained_counts(s, [row.id])
            versions = s.scalars(
                select(IncidentVersionRow)
                .where(IncidentVersionRow.incident_id == row.id)
                .order_by(IncidentVersionRow.version.desc())
            ).all()
            return {
                **_view(row, counts.get(row.id, 0), self.clock()),
                "versions": [
                    {
                        "version": v.version,
                        "action": v.action,
                        "summary": v.summary,
                        "actor": v.actor,
                        "actor_name": v.actor_name,
                        "created_at": v.created_at.isoformat(),
                        "state": v.state,
                    }
                    for v in versions
                ],
            }

    # ---- changes ------------------------------------------------------------------------------------

    def create(
        self, by: Author, draft: IncidentDraft, *, hotspot_id: str | None = None, note: str = ""
    ) -> dict[str, Any]:
        """Open an incident. `hotspot_id`: the insight hotspot whose spike it was opened from (it then
        covers that spike); `note`: for the record (the first version's summary and the audit)."""
        now = self.clock()
        clean = check_incident(draft, now=now)
        note = " ".join(note.split())
        if len(note) > MAX_NOTE:
            raise InvalidIncidentError(f"note: at most {MAX_NOTE} characters")
        with transaction(self._sessions) as s:
            if hotspot_id is not None and (
                self._hotspot_known is None or not self._hotspot_known(s, hotspot_id)
            ):
                raise HotspotNotFoundError(f"no hotspot {hotspot_id[:40]}")
            row = IncidentRow(
                created_by=by.id[:128], created_at=now, updated_at=now, version=1, hotspot_id=hotspot_id
            )
            _apply(row, clean)
            s.add(row)
            s.flush()
            summary = f"opened: {clean.kind}" + (f" from hotspot {hotspot_id}" if hotspot_id else "")
            summary += f"; {note}" if note else ""
            fields = [*FIELDS, "hotspot_id"] if hotspot_id else list(FIELDS)
            self._change(s, row, by, action="create", summary=summary, fields=fields)
            incident_id = row.id
        return self.get(incident_id)

    def update(
        self, by: Author, incident_id: str, changes: Mapping[str, Any], *, version: int | None = None
    ) -> dict[str, Any]:
        """Change some fields (the others stay); the whole incident is checked again. `version`: the
        version the caller read, refused with `incident_changed` when it moved on."""
        now = self.clock()
        with transaction(self._sessions) as s:
            row = self._locked(s, incident_id, version)
            clean = check_incident(_draft(row).with_changes(changes), now=now)
            before = _state(row)
            _apply(row, clean)
            after = _state(row)
            changed = [f for f in FIELDS if before[f] != after[f]]
            if changed:
                row.version += 1
                row.updated_at = now
                self._change(
                    s, row, by, action="update", summary="changed: " + ", ".join(changed), fields=changed
                )
        return self.get(incident_id)

    def resolve(
        self,
        by: Author,
        incident_id: str,
        *,
        resolved_at: datetime | None = None,
        note: str = "",
        version: int | None = None,
    ) -> dict[str, Any]:
        """Close the incident (at `resolved_at`, default now): it explains nothing after that."""
        now = self.clock()
        with transaction(self._sessions) as s:
            row = self._locked(s, incident_id, version)
            ended, note = check_resolution(row.started_at, resolved_at, note, now=now)
            row.status = "resolved"
            row.resolved_at = ended
            row.version += 1
            row.updated_at = now
            summary = "resolved" + (f": {note}" if note else "")
            self._change(s, row, by, action="resolve", summary=summary, fields=["status", "resolved_at"])
        return self.get(incident_id)

    # ---- helpers ------------------------------------------------------------------------------------

    def _locked(self, s: Session, incident_id: str, version: int | None) -> IncidentRow:
        row = s.get(IncidentRow, incident_id, with_for_update=True)
        if row is None:
            raise IncidentNotFoundError(f"no incident {incident_id}")
        if row.status == "resolved":
            raise IncidentResolvedError(f"incident {incident_id} is resolved; open a new one")
        if version is not None and version != row.version:
            raise IncidentChangedError(
                f"incident {incident_id} is at version {row.version}, not {version}; read it again"
            )
        return row

    def _change(
        self, s: Session, row: IncidentRow, by: Author, *, action: str, summary: str, fields: list[str]
    ) -> None:
        s.add(
            IncidentVersionRow(
                incident_id=row.id,
                version=row.version,
                action=action,
                summary=summary[:512],
                actor=by.id[:128],
                actor_name=by.name[:128],
                created_at=row.updated_at,
                state=_state(row),
            )
        )
        if self._audit is None:
            return
        actor = (
            Actor.system(by.name)
            if by.id.startswith("system:")
            else Actor.staff(by.id, ip=by.ip, channel="console")
        )
        verb = {"create": "created", "update": "updated", "resolve": "resolved"}[action]
        self._audit.record(
            s,
            actor=actor,
            action=f"incident.{verb}",
            target=Target("incident", row.id),
            reason=summary[:500],
            details={
                "version": row.version,
                "fields": fields,
                "status": row.status,
                **({"hotspot_id": row.hotspot_id} if row.hotspot_id else {}),
            },
        )


def _apply(row: IncidentRow, clean: IncidentDraft) -> None:
    row.kind = clean.kind
    row.title = dict(clean.title)
    row.explanation = dict(clean.explanation)
    row.products = list(clean.products)
    row.channels = list(clean.channels)
    row.regions = list(clean.regions)
    assert clean.started_at is not None  # check_incident gives it
    row.started_at = clean.started_at
    row.expected_fix_at = clean.expected_fix_at
    row.status = clean.status


def _view(row: IncidentRow, explained: int, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        **_state(row),
        "version": row.version,
        "active": is_active(incident_of(row), now),
        "explained": explained,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
