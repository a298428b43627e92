"""Leases: one holder at a time for a named job across every process sharing the database.

A lease is a row (`leases`) with a holder and an expiry. `try_acquire` takes it when it is free,
expired, or already ours, and extends it; a holder that dies loses it when it expires. Used where
exactly one process must do a job in order: the outbox relay, each durable event consumer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.db.base import Base, UTCDateTime


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(96))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


def try_acquire(s: Session, name: str, holder: str, *, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or extend lease `name` for `holder` (inside the caller's transaction); False if another holds it."""
    now = now or utcnow()
    result = s.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) == 1:
        return True
    if s.get(Lease, name) is not None:
        return False
    try:
        with s.begin_nested():
            s.add(Lease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False  # another process created it first
    return True


def release(s: Session, name: str, holder: str) -> None:
    """Give the lease up at once (a clean shutdown), if `holder` has it."""
    s.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
        .execution_options(synchronize_session=False)
    )
