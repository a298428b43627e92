"""Incident campaigns: an operator has the affected customers of an active incident notified.

    campaigns = Campaigns(sessions=sessions, audit=audit, config=config, tz=tz)
    campaigns.start(author, incident_id, channel="sms")                 # the explanation, per language
    campaigns.start(author, incident_id, channel="email", message={"zh-Hans": "...", "en": "..."})
    campaigns.current(incident_id)       # status and counts: targeted, sent, skipped_opt_out, ...
    campaigns.cancel(author, incident_id)

Starting and cancelling are audited (`incident.campaign_started`, `incident.campaign_cancelled`,
target the incident) in the transaction that stores them. One campaign of an incident runs at a time
(`campaign_running`). Nothing is sent here: the outreach process targets the customers and sends
the notices, within the rate and outside the quiet hours (`outreach.campaign_sender`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConflictError, NotFoundError, ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.db.session import reading, transaction
from helixdesk.incidents.errors import IncidentNotFoundError
from helixdesk.incidents.models import IncidentRow
from helixdesk.incidents.register import Author, incident_of
from helixdesk.incidents.rules import is_active
from helixdesk.notifications.notifier import CHANNELS
from helixdesk.outreach.campaign_rules import CampaignConfig, quiet_until
from helixdesk.outreach.models import CampaignRow, NoticeRow

PURPOSE = "service_notice"  # the opt-out purpose and the notification's purpose
MAX_MESSAGE = 500
# A notice's status -> the count it adds to; `pending` and `sending` are still to go.
COUNTED = ("sent", "skipped_opt_out", "skipped_no_contact", "failed", "cancelled")


class InvalidCampaignError(ValidationFailedError):
    """An unknown channel, or a message in an unknown language, empty or too long."""

    code = "invalid_campaign"


class CampaignRunningError(ConflictError):
    """The incident has a campaign running: cancel it first."""

    code = "campaign_running"


class CampaignNotFoundError(NotFoundError):
    """The incident has no campaign (to show or to cancel)."""

    code = "campaign_not_found"


class CampaignNotRunningError(ConflictError):
    """The incident's latest campaign has ended: nothing to cancel."""

    code = "campaign_not_running"


class IncidentNotActiveError(ConflictError):
    """Only an incident that has started and is not resolved has customers to notify."""

    code = "incident_not_active"


def check_message(message: Mapping[str, str] | None) -> dict[str, str]:
    """The operator's own message per language (empty: each customer reads the explanation)."""
    clean: dict[str, str] = {}
    for language, text in (message or {}).items():
        if language not in LANGUAGES:
            raise InvalidCampaignError(
                f"message: language must be one of {', '.join(LANGUAGES)}, not {language!r}"
            )
        if not isinstance(text, str):
            raise InvalidCampaignError(f"message.{language}: text expected")
        if text.strip():
            if len(text.strip()) > MAX_MESSAGE:
                raise InvalidCampaignError(f"message.{language}: at most {MAX_MESSAGE} characters")
            clean[language] = text.strip()
    if message and not clean:
        raise InvalidCampaignError(
            "message: give a text in at least one language, or none for the explanation"
        )
    return clean


def counts(s: Session, campaign_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Each campaign's notices by status."""
    found: dict[str, dict[str, int]] = {c: {} for c in campaign_ids}
    if not campaign_ids:
        return found
    rows = s.execute(
        select(NoticeRow.campaign_id, NoticeRow.status, func.count(NoticeRow.id))
        .where(NoticeRow.campaign_id.in_(list(campaign_ids)))
        .group_by(NoticeRow.campaign_id, NoticeRow.status)
    )
    for campaign_id, status, n in rows:
        found[campaign_id][status] = int(n)
    return found


class Campaigns:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        config: CampaignConfig,
        tz: tzinfo,
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self.config = config
        self.tz = tz
        self.clock = clock

    # ---- reading --------------------------------------------------------------------------------

    def current(self, incident_id: str) -> dict[str, Any]:
        """The incident's latest campaign with its counts (`campaign_not_found` when none)."""
        found = self.latest([incident_id])
        if incident_id not in found:
            with reading(self._sessions) as s:
                if s.get(IncidentRow, incident_id) is None:
                    raise IncidentNotFoundError(f"no incident {incident_id}")
            raise CampaignNotFoundError(f"incident {incident_id} has no campaign")
        return found[incident_id]

    def latest(self, incident_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The latest campaign of each of these incidents that has one."""
        if not incident_ids:
            return {}
        with reading(self._sessions) as s:
            rows = s.scalars(
                select(CampaignRow)
                .where(CampaignRow.incident_id.in_(list(incident_ids)))
                .order_by(CampaignRow.created_at, CampaignRow.id)
            ).all()
            newest = {r.incident_id: r for r in rows}  # the last one of each incident wins
            numbers = counts(s, [r.id for r in newest.values()])
        now = self.clock()
        waiting_until = quiet_until(self.config, now, self.tz)
        return {i: _view(r, numbers[r.id], waiting_until) for i, r in newest.items()}

    # ---- changes --------------------------------------------------------------------------------

    def start(
        self, by: Author, incident_id: str, *, channel: str, message: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        if channel not in CHANNELS:
            raise InvalidCampaignError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
        text = check_message(message)
        now = self.clock()
        try:
            with transaction(self._sessions) as s:
                incident = s.get(IncidentRow, incident_id, with_for_update=True)
                if incident is None:
                    raise IncidentNotFoundError(f"no incident {incident_id}")
                if not is_active(incident_of(incident), now):
                    raise IncidentNotActiveError(
                        f"incident {incident_id} is not active (not started yet, or resolved)"
                    )
                self._refuse_running(s, incident_id)
                row = CampaignRow(
                    incident_id=incident_id,
                    running_key=incident_id,
                    status="running",
                    channel=channel,
                    message=text,
                    targeting_done=False,
                    started_by=by.id[:128],
                    started_by_name=by.name[:128],
                    created_at=now,
                )
                s.add(row)
                s.flush()
                self._record(
                    s,
                    by,
                    "incident.campaign_started",
                    incident_id,
                    {"campaign": row.id, "channel": channel, "own_message": sorted(text)},
                )
        except IntegrityError as e:  # another start won the race for the running key
            raise CampaignRunningError(f"incident {incident_id} has a campaign running") from e
        return self.current(incident_id)

    def cancel(self, by: Author, incident_id: str) -> dict[str, Any]:
        """Stop the running campaign: the notices not sent yet are cancelled (a notice being handed
        to the gateway right now still goes)."""
        now = self.clock()
        with transaction(self._sessions) as s:
            row = s.scalar(
                select(CampaignRow)
                .where(CampaignRow.incident_id == incident_id)
                .order_by(CampaignRow.created_at.desc(), CampaignRow.id.desc())
                .limit(1)
                .with_for_update()
            )
            if row is None:
                if s.get(IncidentRow, incident_id) is None:
                    raise IncidentNotFoundError(f"no incident {incident_id}")
                raise CampaignNotFoundError(f"incident {incident_id} has no campaign")
            if row.status != "running":
                raise CampaignNotRunningError(f"the campaign of incident {incident_id} is {row.status}")
            left = end_campaign(s, row, status="cancelled", at=now, by=by.id)
            self._record(
                s, by, "incident.campaign_cancelled", incident_id, {"campaign": row.id, "not_sent": left}
            )
        return self.current(incident_id)

    # ---- helpers --------------------------------------------------------------------------------

    def _refuse_running(self, s: Session, incident_id: str) -> None:
        running = s.scalar(select(CampaignRow.id).where(CampaignRow.running_key == incident_id).limit(1))
        if running is not None:
            raise CampaignRunningError(
                f"incident {incident_id} has a campaign running ({running}); cancel it first"
            )

    def _record(self, s: Session, by: Author, action: str, incident_id: str, details: dict[str, Any]) -> None:
        if self._audit is None:
            return
        actor = (
            Actor.system(by.name)
            if by.id.startswith("system:")
            else Actor.staff(by.id, ip=by.ip, channel="console")
        )
        self._audit.record(
            s, actor=actor, action=action, target=Target("incident", incident_id), details=details
        )


def end_campaign(s: Session, row: CampaignRow, *, status: str, at: datetime, by: str) -> int:
    """End a running campaign (cancelled, stopped, done) in the caller's transaction: its notices
    still pending are cancelled and give up their once-per-incident key. How many were cancelled."""
    left = s.execute(
        update(NoticeRow)
        .where(NoticeRow.campaign_id == row.id, NoticeRow.status == "pending")
        .values(status="cancelled", once_key=None)
    )
    row.status = status
    row.running_key = None
    row.ended_at = at
    row.ended_by = by[:128]
    return int(left.rowcount or 0)  # type: ignore[attr-defined]


def _view(row: CampaignRow, by_status: Mapping[str, int], waiting_until: datetime | None) -> dict[str, Any]:
    to_go = by_status.get("pending", 0) + by_status.get("sending", 0)
    return {
        "id": row.id,
        "incident_id": row.incident_id,
        "status": row.status,
        "channel": row.channel,
        "message": dict(row.message or {}),
        "targeting_done": row.targeting_done,
        "started_by": row.started_by,
        "started_by_name": row.started_by_name,
        "created_at": row.created_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "quiet_until": waiting_until.isoformat() if waiting_until and to_go else None,
        "counts": {
            "targeted": sum(by_status.values()),
            "sent": by_status.get("sent", 0),
            "skipped_opt_out": by_status.get("skipped_opt_out", 0),
            "skipped_no_contact": by_status.get("skipped_no_contact", 0),
            "waiting_quiet_hours": to_go if waiting_until is not None and row.status == "running" else 0,
            "failed": by_status.get("failed", 0),
            "pending": to_go,
            "cancelled": by_status.get("cancelled", 0),
        },
    }
