"""Tables of quality monitoring: scorecards, findings with their evidence, alerts, human reviews
and coaching items.

The QA consumer (`helixdesk.quality.consumer`) writes scorecards, findings and alerts from the
event log; reviewers and supervisors write reviews, verdicts and coaching items.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class Verdict(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class CoachingStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Scorecard(Base):
    """One per conversation: its QA score (0-100), first-contact resolution and the counts behind
    them. `final` once the conversation closed and was scored again as a whole."""

    __tablename__ = "qa_scorecards"
    __table_args__ = (
        Index("ix_qa_scorecards_agent", "agent_id", "updated_at"),
        # Analytics sums compliance findings by the conversations' start.
        Index("ix_qa_scorecards_started", "started_at"),
    )

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    team: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="web")
    language: Mapped[str | None] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float, default=100.0)
    # Points taken off per category (compliance, conflict, dissatisfaction, resolution).
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    compliance_findings: Mapped[int] = mapped_column(Integer, default=0)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    fcr: Mapped[bool | None] = mapped_column(Boolean)
    csat: Mapped[int | None] = mapped_column(Integer)
    handled_seconds: Mapped[float | None] = mapped_column(Float)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    # The customer's topic (their most frequent intent), for repeat contact about the same issue.
    topic: Mapped[str | None] = mapped_column(String(48))
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    last_log_seq: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A reviewer's own score of the conversation, when reviewed.
    review_score: Mapped[float | None] = mapped_column(Float)
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)
    sampled: Mapped[bool] = mapped_column(Boolean, default=False)


class Finding(Base):
    """One problem the QA engine found, with the message and the span that show it."""

    __tablename__ = "qa_findings"
    __table_args__ = (
        UniqueConstraint("conversation_id", "rule", "message_id", name="uq_qa_findings_rule_message"),
        Index("ix_qa_findings_agent", "agent_id", "created_at"),
        Index("ix_qa_findings_verdict", "verdict", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # The message the evidence is in ("" for a finding about the conversation as a whole).
    message_id: Mapped[str] = mapped_column(String(36), default="")
    message_seq: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(8))
    sender: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    evidence: Mapped[str] = mapped_column(Text, default="")
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The agent sent the message although the live check warned them, and said why.
    override_reason: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String(12), default=Verdict.PENDING.value)
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Alert(Base):
    """A conversation going badly, raised on the supervisors' live board."""

    __tablename__ = "qa_alerts"
    __table_args__ = (
        UniqueConstraint("conversation_id", "kind", "key", name="uq_qa_alerts_kind_key"),
        Index("ix_qa_alerts_status", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    # What makes this alert unique within its kind (a finding's id, a handoff's id, ...).
    key: Mapped[str] = mapped_column(String(64), default="")
    severity: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    queue: Mapped[str | None] = mapped_column(String(24))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN.value)
    handled_by: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    handled_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CoachingItem(Base):
    """Something a supervisor asked an agent to work on, with the conversations that show it."""

    __tablename__ = "qa_coaching_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agent_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=CoachingStatus.ASSIGNED.value)
    assigned_by: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    due_on: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
