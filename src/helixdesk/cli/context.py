"""What the data-handling commands share: the database, the audit log and who runs the command."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.policies import load_action_policies
from helixdesk.audit import Actor, AuditLog
from helixdesk.audit.keys import resolve_audit_key
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.packs.loader import load_pack


@dataclass(frozen=True, slots=True)
class Store:
    settings: Settings
    sessions: sessionmaker[Session]
    audit: AuditLog


@contextmanager
def open_store() -> Iterator[Store]:
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        yield Store(settings, make_session_factory(engine), AuditLog(key=resolve_audit_key(settings)))
    finally:
        engine.dispose()


def bank_zone(settings: Settings) -> tzinfo:
    """The bank's time zone: `bank_timezone`, else the pack's."""
    return load_action_policies(load_pack(settings.pack), timezone=settings.bank_timezone).bank.tz


def operator(by: str = "") -> Actor:
    """The person running the command, as an audit actor (`cli:NAME`)."""
    if not by:
        try:
            by = getpass.getuser()
        except (KeyError, OSError):
            by = "unknown"
    return Actor.system(f"cli:{by}"[:128])


def parse_time(value: str, option: str) -> datetime | None:
    """An ISO date or date-time (UTC unless it says otherwise); empty gives None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as e:
        raise ValidationFailedError(
            f"{option} must be an ISO date or date-time like 2026-11-23T09:30, not {value!r}", code="bad_date"
        ) from e
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
