"""First-response SLAs as they stand now: every conversation waiting for a person's first reply, and
those past their target.

A handoff keeps the target in force when it was queued (`Handoff.sla_seconds`, from
`helixdesk.routing.config.Routing.sla_for`). Until a person's first reply it counts: waiting in a
queue, or claimed with nothing said to the customer yet (no agent message since it was queued).
Once it waits past its target it is a breach; it stops being one when a person answers (the first
reply of a handoff is the event `handoff.answered`), or when the handoff ends.

The supervisor's board reads `board` once and then ticks by itself: each unanswered conversation
carries when it was queued and its target, so it turns into a breach on the page at the right
second without asking the server again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from helixdesk.auth.models import StaffUser
from helixdesk.conversations.models import Conversation, Message, Sender
from helixdesk.handoff.models import OPEN_STATUSES, Handoff
from helixdesk.routing.queues import QUEUES


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A conversation waiting for a person's first reply, against its first-response target."""

    handoff_id: str
    conversation_id: str
    queue: str
    status: str  # waiting (in a queue) or active (claimed, no reply yet)
    tier: str | None
    channel: str
    customer_label: str | None
    agent_name: str | None
    created_at: datetime
    sla_seconds: int

    @property
    def due_at(self) -> datetime:
        return self.created_at + timedelta(seconds=self.sla_seconds)

    def waited(self, now: datetime) -> int:
        return int(max(0.0, (now - self.created_at).total_seconds()))

    def breached(self, now: datetime) -> bool:
        return now > self.due_at

    def to_dict(self, now: datetime) -> dict[str, Any]:
        waited = self.waited(now)
        return {
            "handoff_id": self.handoff_id,
            "conversation_id": self.conversation_id,
            "queue": self.queue,
            "status": self.status,
            "tier": self.tier,
            "channel": self.channel,
            "customer_label": self.customer_label,
            "agent_name": self.agent_name,
            "created_at": self.created_at.isoformat(),
            "sla_seconds": self.sla_seconds,
            "due_at": self.due_at.isoformat(),
            "waited_seconds": waited,
            "over_seconds": waited - self.sla_seconds,
            "url": f"/console/conversations/{self.conversation_id}",
        }


def answered_clause() -> Any:
    """True for a handoff a person has replied in: an agent message since it was queued."""
    return exists().where(
        Message.conversation_id == Handoff.conversation_id,
        Message.sender == Sender.AGENT.value,
        Message.created_at >= Handoff.created_at,
    )


def has_first_reply(s: Session, handoff: Handoff) -> bool:
    """Whether a person has replied to the customer since `handoff` was queued."""
    return bool(
        s.scalar(
            select(
                exists().where(
                    Message.conversation_id == handoff.conversation_id,
                    Message.sender == Sender.AGENT.value,
                    Message.created_at >= handoff.created_at,
                )
            )
        )
    )


def unanswered(s: Session) -> list[Unanswered]:
    """Every open handoff without a person's first reply, the longest waiting first."""
    rows = s.execute(
        select(
            Handoff.id,
            Handoff.conversation_id,
            Handoff.queue,
            Handoff.status,
            Handoff.packet,
            Handoff.created_at,
            Handoff.sla_seconds,
            Conversation.channel,
            StaffUser.display_name,
        )
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .outerjoin(StaffUser, StaffUser.id == Handoff.agent_id)
        .where(Handoff.status.in_(OPEN_STATUSES), ~answered_clause())
        .order_by(Handoff.created_at)
    ).all()
    out = []
    for r in rows:
        customer = (r.packet or {}).get("customer") or {}
        out.append(
            Unanswered(
                handoff_id=r.id,
                conversation_id=r.conversation_id,
                queue=r.queue,
                status=r.status,
                tier=customer.get("value_tier") or None,
                channel=r.channel,
                customer_label=customer.get("ref"),
                agent_name=r.display_name,
                created_at=r.created_at,
                sla_seconds=r.sla_seconds,
            )
        )
    return out


def board(items: list[Unanswered], now: datetime) -> dict[str, Any]:
    """The breaches now (the furthest over first), how many per queue, and the conversations still
    within their target (the soonest due first), for a page that ticks by itself."""
    over = sorted((i for i in items if i.breached(now)), key=lambda i: i.due_at)
    within = sorted((i for i in items if not i.breached(now)), key=lambda i: i.due_at)
    by_queue = dict.fromkeys(QUEUES, 0)
    for i in over:
        by_queue[i.queue] = by_queue.get(i.queue, 0) + 1
    return {
        "as_of": now.isoformat(),
        "count": len(over),
        "by_queue": by_queue,
        "breaches": [i.to_dict(now) for i in over],
        "upcoming": [i.to_dict(now) for i in within],
    }
