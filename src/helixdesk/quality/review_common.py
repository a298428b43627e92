"""What review and coaching share: a person's note and a period checked, the audit entry of what a
person did, a time as people read it, and the names of staff members."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from helixdesk.audit import AuditLog, Target
from helixdesk.audit.context import staff_actor
from helixdesk.auth.service import StaffView
from helixdesk.core.errors import ValidationFailedError
from helixdesk.privacy.masking import mask_text

MAX_NOTE = 2000
# The most days an agreement or quality period may span.
MAX_PERIOD_DAYS = 3650


def check_note(note: str | None, *, what: str = "note") -> str | None:
    """A reviewer's or agent's note: trimmed, at most `MAX_NOTE` characters, personal data masked."""
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationFailedError(f"a {what} is at most {MAX_NOTE} characters", code="note_too_long")
    return mask_text(text).text or None


def check_days(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= MAX_PERIOD_DAYS:
        raise ValidationFailedError(
            f"the period is 1 to {MAX_PERIOD_DAYS} days, not {days}", code="invalid_period"
        )
    return days


def record(
    audit: AuditLog | None,
    s: Session,
    user: StaffView,
    action: str,
    target: Target,
    *,
    details: dict[str, Any],
    reason: str = "",
    customer_ref: str | None = None,
) -> None:
    """An audit entry for what a person did (inside the caller's transaction; none without a log)."""
    if audit is not None:
        audit.record(
            s,
            actor=staff_actor(user.id),
            action=action,
            target=target,
            reason=reason,
            details=details,
            customer_ref=customer_ref,
        )


def iso_time(at: datetime | None, tz: tzinfo = UTC) -> str | None:
    """A time as ISO 8601 in `tz` (the bank's time zone where people read it)."""
    return at.astimezone(tz).isoformat() if at is not None else None
