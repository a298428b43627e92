"""The table of agents' practice conversations (training mode). A practice conversation is not a
conversation: it has no customer, no conversation row and no events, so analytics, quality
monitoring, insight and customer histories never see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class TrainingSession(Base):
    __tablename__ = "training_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    customer: Mapped[str] = mapped_column(String(32))  # the practice customer: angry, scam_victim
    language: Mapped[str] = mapped_column(String(8))
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, ended
    outcome: Mapped[str | None] = mapped_column(String(16))  # satisfied, left, stopped
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the customer's mood and needs met
    # [{sender: customer|agent, text (masked), at, emotion: {label, intensity} | null, outcome}]
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
