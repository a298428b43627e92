"""The `customer_issues` table: problems a customer raised that are not settled yet."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class IssueStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"


class CustomerIssue(Base):
    __tablename__ = "customer_issues"
    __table_args__ = (Index("ix_customer_issues_customer_status", "customer_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    topic: Mapped[str] = mapped_column(String(48))
    intent: Mapped[str] = mapped_column(String(48))
    action: Mapped[str | None] = mapped_column(String(48))
    ref: Mapped[str | None] = mapped_column(String(64))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=IssueStatus.OPEN.value)
    raised_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A follow-up task a person created: who owns it and when it is due (the bot raises it when the
    # customer returns, on any channel; it shows in the owner's console).
    owner_id: Mapped[str | None] = mapped_column(String(36), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
