"""The event log: a transactional outbox of every conversation event.

A writer stores its events with `record(s, events)` in the same transaction as the change they
describe, so an event exists if and only if its change was committed. The outbox relay
(`helixdesk.bus.relay`) publishes stored events to the bus in `position` order and gives each a
`log_seq` as it does: a second, gap-free sequence in publication order. Durable consumers
(`helixdesk.bus.consumer`) read the log by `log_seq` and resume from the last one they handled.

Why two sequences: `position` is handed out when the row is inserted, so on PostgreSQL a later
position can commit before an earlier one. Every writer of a conversation locks the conversation
row first, so within one conversation position order is commit order, and the relay publishes
in that order. `log_seq` is handed out by the one relay holding the lease, to committed rows only,
so a consumer reading `log_seq > n` never misses a row that commits later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Table, Text, bindparam, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event, event_from_json, event_to_json
from helixdesk.db.base import Base, UTCDateTime

_ID = BigInteger().with_variant(Integer(), "sqlite")


class EventRecord(Base):
    __tablename__ = "event_log"
    __table_args__ = (
        Index(
            "ix_event_log_unpublished",
            "position",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
        Index("ix_event_log_conversation", "conversation_id", "position"),
        {"sqlite_autoincrement": True},
    )

    position: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    log_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


_EVENTS: Table = EventRecord.__table__  # type: ignore[assignment]
_INSERT = _EVENTS.insert()
_MARK = (
    _EVENTS.update()
    .where(_EVENTS.c.position == bindparam("p"))
    .values(log_seq=bindparam("n"), published_at=bindparam("at"))
)
_UNPUBLISHED = (
    select(_EVENTS.c.position, _EVENTS.c.payload)
    .where(_EVENTS.c.published_at.is_(None))
    .order_by(_EVENTS.c.position)
    .limit(bindparam("limit"))
)


def record(s: Session, events: Iterable[Event]) -> None:
    """Store `events` in the caller's transaction (they are published after it commits)."""
    rows = [
        {
            "event_id": e.event_id,
            "conversation_id": e.conversation_id,
            "type": e.type,
            "payload": event_to_json(e),
            "occurred_at": e.occurred_at,
        }
        for e in events
    ]
    if rows:
        s.connection().execute(_INSERT, rows)


def unpublished(s: Session, *, limit: int) -> list[tuple[int, Event]]:
    """Stored events not yet published, oldest first: (position, event)."""
    rows = s.connection().execute(_UNPUBLISHED, {"limit": limit}).all()
    return [(int(position), event_from_json(payload)) for position, payload in rows]


def last_log_seq(s: Session) -> int:
    return int(s.scalar(select(func.max(EventRecord.log_seq))) or 0)


def mark_published(s: Session, numbered: Sequence[tuple[int, int]]) -> None:
    """Record (position, log_seq) pairs as published now."""
    if not numbered:
        return
    now = utcnow()
    s.connection().execute(_MARK, [{"p": p, "n": n, "at": now} for p, n in numbered])


def read_log(
    s: Session, *, after_seq: int, limit: int, conversation_ids: Sequence[str] | None = None
) -> list[Event]:
    """Published events after `after_seq`, in `log_seq` order (optionally of some conversations only)."""
    query = (
        select(EventRecord.payload, EventRecord.log_seq)
        .where(EventRecord.log_seq > after_seq)
        .order_by(EventRecord.log_seq)
        .limit(limit)
    )
    if conversation_ids is not None:
        query = query.where(EventRecord.conversation_id.in_(conversation_ids))
    return [event_from_json(payload).model_copy(update={"log_seq": seq}) for payload, seq in s.execute(query)]
