"""The one clock: aware UTC datetimes everywhere (stored, compared and sent as UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
