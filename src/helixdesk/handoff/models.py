"""Tables of the human side: handoffs (one per time a conversation waits for or is with a person),
agents' internal notes, and knowledge drafts proposed by agents."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class HandoffStatus(enum.StrEnum):
    WAITING = "waiting"  # in a queue, nobody has it yet
    ACTIVE = "active"  # a person has claimed it
    CLOSED = "closed"  # wrapped up by the person
    TRANSFERRED = "transferred"  # moved to another queue or person (a new handoff continues it)
    HANDED_BACK = "handed_back"  # the person gave the conversation back to the bot


OPEN_STATUSES = (HandoffStatus.WAITING.value, HandoffStatus.ACTIVE.value)
_OPEN_SQL = text("status IN ('waiting', 'active')")


class Handoff(Base):
    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_queue_status", "queue", "status"),
        Index("ix_handoffs_agent_status", "agent_id", "status"),
        # At most one open handoff per conversation, on every backend.
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    queue: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default=HandoffStatus.WAITING.value)
    reason: Mapped[str] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(48))
    language: Mapped[str] = mapped_column(String(8))
    priority: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    sla_seconds: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(Text)
    negativity: Mapped[float] = mapped_column(Float, default=0.0)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    packet: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    offered_to: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_note: Mapped[str] = mapped_column(Text, default="")
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    transferred_from: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disposition: Mapped[str | None] = mapped_column(String(32))
    resolution: Mapped[str | None] = mapped_column(String(16))
    wrap_note: Mapped[str | None] = mapped_column(Text)


class AgentNote(Base):
    """An internal note on a conversation; customers never see these."""

    __tablename__ = "agent_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    # "note" (for everyone who opens the conversation) or "whisper" (a supervisor to the agent
    # handling it, shown live in their console; `to_agent_id` is that agent).
    kind: Mapped[str] = mapped_column(String(12), default="note", server_default="note")
    to_agent_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KnowledgeDraft(Base):
    """An agent's insight proposed as a knowledge-base entry, waiting for a supervisor's review."""

    __tablename__ = "kb_drafts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(48))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    review_note: Mapped[str | None] = mapped_column(Text)
    kb_source: Mapped[str | None] = mapped_column(String(128))
    # Other ways customers asked it (a proposal from insight carries the customers' own words):
    # searched, never shown.
    alternatives: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GoodwillStatus(enum.StrEnum):
    PENDING = "pending"  # an agent asked for more than they may approve alone: a supervisor decides
    APPROVED = "approved"  # approved; the bank's connector cannot post credits, its back office pays
    CREDITED = "credited"  # posted to the customer's account through the bank's connector
    REJECTED = "rejected"  # a supervisor turned the request down
    FAILED = "failed"  # approved, but the bank refused the credit


# What counts towards the pack's goodwill limits: everything not turned down or refused.
GOODWILL_COUNTED = (
    GoodwillStatus.PENDING.value,
    GoodwillStatus.APPROVED.value,
    GoodwillStatus.CREDITED.value,
)


class GoodwillCredit(Base):
    """A goodwill compensation approved (or asked for) in a conversation, within the pack's limits."""

    __tablename__ = "goodwill_credits"
    __table_args__ = (Index("ix_goodwill_credits_customer", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")  # the person's words, masked
    status: Mapped[str] = mapped_column(String(12), index=True)
    requested_by: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    requested_by_name: Mapped[str] = mapped_column(String(128))
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    decided_by_name: Mapped[str | None] = mapped_column(String(128))
    account: Mapped[str | None] = mapped_column(String(16))  # the credited account, masked (****1234)
    transaction_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
