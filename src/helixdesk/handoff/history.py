"""Past handoffs written as they happened, beside a past conversation (`conversations.history`):
the bank's history from the system it had before, the demo month, the analytics fixtures.

`import_past_handoffs(s, conversation_id, handoffs)` stores each handoff with its own times (queued,
claimed by a person, ended) and the events a live one would have published, with those times, so
every consumer reads it as it reads a live one. It runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from helixdesk.auth.models import StaffUser
from helixdesk.bus import outbox
from helixdesk.conversations.models import Conversation
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.core.events import Event, HandoffClaimed, HandoffEnded, HandoffQueued
from helixdesk.core.ids import new_id
from helixdesk.handoff.models import Handoff
from helixdesk.routing.queues import QUEUES


@dataclass(frozen=True, slots=True)
class PastHandoff:
    queue: str
    reason: str
    at: datetime
    sla_seconds: int
    status: Literal["closed", "transferred", "handed_back"] = "closed"
    claimed_at: datetime | None = None
    ended_at: datetime | None = None
    agent_id: str | None = None
    resolution: str | None = None  # the wrap-up: resolved, unresolved, follow_up
    disposition: str | None = None
    priority: int = 30
    negativity: float = 0.0
    tier: str | None = None
    language: str = "zh-Hans"
    intent: str | None = None


def import_past_handoffs(s: Session, conversation_id: str, handoffs: Sequence[PastHandoff]) -> list[str]:
    """Store these handoffs of a stored conversation with their events; returns their ids."""
    conv = s.get(Conversation, conversation_id)
    if conv is None:
        raise NotFoundError(f"no conversation {conversation_id}", code="conversation_not_found")
    events: list[Event] = []
    ids: list[str] = []
    for h in handoffs:
        _check(h)
        agent = s.get(StaffUser, h.agent_id) if h.agent_id else None
        if h.agent_id and agent is None:
            raise ValidationFailedError(f"no staff user {h.agent_id}", code="unknown_agent")
        row = Handoff(
            id=new_id(),
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            queue=h.queue,
            status=h.status,
            reason=h.reason,
            intent=h.intent,
            language=h.language,
            priority=h.priority,
            sla_seconds=h.sla_seconds,
            explanation=h.reason,
            negativity=h.negativity,
            packet={"customer": {"value_tier": h.tier}} if h.tier else {},
            agent_id=h.agent_id if h.claimed_at else None,
            created_at=h.at,
            claimed_at=h.claimed_at,
            closed_at=h.ended_at,
            disposition=h.disposition,
            resolution=h.resolution,
        )
        s.add(row)
        ids.append(row.id)
        events.append(
            HandoffQueued(
                conversation_id=conv.id,
                handoff_id=row.id,
                queue=h.queue,
                priority=h.priority,
                reason=h.reason,
                explanation=h.reason,
                language=h.language,
                occurred_at=h.at,
            )
        )
        if h.claimed_at is not None and agent is not None:
            events.append(
                HandoffClaimed(
                    conversation_id=conv.id,
                    handoff_id=row.id,
                    queue=h.queue,
                    agent_id=agent.id,
                    agent_name=agent.display_name,
                    agent_role=(agent.roles or ["agent"])[0],
                    occurred_at=h.claimed_at,
                )
            )
        if h.ended_at is not None:
            events.append(
                HandoffEnded(
                    conversation_id=conv.id,
                    handoff_id=row.id,
                    queue=h.queue,
                    status=h.status,
                    agent_id=row.agent_id,
                    disposition=h.disposition,
                    resolution=h.resolution,
                    occurred_at=h.ended_at,
                )
            )
    s.flush()
    outbox.record(s, events)
    return ids


def _check(h: PastHandoff) -> None:
    if h.queue not in QUEUES:
        raise ValidationFailedError(f"queue must be one of {', '.join(QUEUES)}", code="invalid_queue")
    times = [t for t in (h.at, h.claimed_at, h.ended_at) if t is not None]
    if times != sorted(times):
        raise ValidationFailedError("a handoff is queued, then claimed, then ended", code="bad_history")
    if h.claimed_at is not None and h.agent_id is None:
        raise ValidationFailedError("a claimed handoff needs its agent", code="bad_history")
