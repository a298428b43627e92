"""Analytics tables: one fact row per conversation, and the daily rollups summed from them.

`analytics_facts` holds what one conversation contributes to every metric (`analytics.facts`),
with the dimensions the dashboards filter by (day in the bank's time zone, channel, language,
queue, customer tier, intent, agent). The `analytics` consumer keeps it up to date and moves each
change into the rollups as a difference (the old row's contribution out, the new one's in), so the
rollups stay equal to a sum over the facts; `helixdesk analytics rebuild` recomputes both from the
source tables.

`analytics_cells` are additive counts and sums per day and combination of dimensions;
`analytics_counts` are the categorical distributions (handoff reasons, emotions, risk flags) per
day and combination. Each fact is counted at seven grains (`GRAINS`), from `day` (no dimension:
one cell a day) through `intent`, `agent`, `base` (channel, language, queue and tier: a few hundred
cells a day whatever the volume), `base_intent`, `base_agent` to `full` (every dimension). A query
reads the coarsest grain that holds the dimensions it filters or breaks down by, so the common
views sum a handful of rows a day.
Dimensions absent from a conversation, or left out at a grain, are stored as "" so that they can
be part of the primary key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.conversations import models as _conversations  # noqa: F401  (the foreign key's table)
from helixdesk.db.base import Base, UTCDateTime

# The dimensions of a cell, in key order.
DIMENSIONS: tuple[str, ...] = ("channel", "language", "queue", "tier", "intent", "agent_id")
_BASE = frozenset({"channel", "language", "queue", "tier"})
# Each grain keeps these dimensions (the others are ""), coarsest first.
GRAINS: dict[str, frozenset[str]] = {
    "day": frozenset(),
    "intent": frozenset({"intent"}),
    "agent": frozenset({"agent_id"}),
    "base": _BASE,
    "base_intent": _BASE | {"intent"},
    "base_agent": _BASE | {"agent_id"},
    "full": frozenset(DIMENSIONS),
}


class AnalyticsFact(Base):
    __tablename__ = "analytics_facts"
    __table_args__ = (
        Index("ix_analytics_facts_day", "day"),
        Index("ix_analytics_facts_customer_started", "customer_id", "started_at"),
        Index("ix_analytics_facts_agent_day", "agent_id", "day"),
    )

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(36))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    queue: Mapped[str] = mapped_column(String(24), default="")
    tier: Mapped[str] = mapped_column(String(16), default="")
    intent: Mapped[str] = mapped_column(String(48), default="")
    agent_id: Mapped[str] = mapped_column(String(36), default="")
    engaged: Mapped[bool] = mapped_column(Boolean, default=False)
    contained: Mapped[bool] = mapped_column(Boolean, default=False)
    handed_off: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff_reason: Mapped[str] = mapped_column(String(32), default="")
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    csat: Mapped[int | None] = mapped_column(Integer)
    first_response_seconds: Mapped[float | None] = mapped_column(Float)
    queue_wait_seconds: Mapped[float | None] = mapped_column(Float)
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    handled_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    risky: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_seconds: Mapped[int | None] = mapped_column(Integer)
    agent_response_seconds: Mapped[float | None] = mapped_column(Float)
    sla_met: Mapped[bool | None] = mapped_column(Boolean)
    emotional_load: Mapped[float] = mapped_column(Float, default=0.0)
    emotions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    risks: Mapped[list[str]] = mapped_column(JSON, default=list)
    came_back: Mapped[bool] = mapped_column(Boolean, default=False)
    knowledge: Mapped[list[str]] = mapped_column(JSON, default=list)


class AnalyticsCell(Base):
    __tablename__ = "analytics_cells"
    __table_args__ = (Index("ix_analytics_cells_grain_agent_day", "grain", "agent_id", "day"),)

    grain: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    queue: Mapped[str] = mapped_column(String(24), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    intent: Mapped[str] = mapped_column(String(48), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversations: Mapped[int] = mapped_column(Integer, default=0)
    engaged: Mapped[int] = mapped_column(Integer, default=0)
    contained: Mapped[int] = mapped_column(Integer, default=0)
    handed_off: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    csat_sum: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    response_sum: Mapped[float] = mapped_column(Float, default=0.0)
    waited: Mapped[int] = mapped_column(Integer, default=0)
    wait_sum: Mapped[float] = mapped_column(Float, default=0.0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    handled_sum: Mapped[float] = mapped_column(Float, default=0.0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    negative: Mapped[int] = mapped_column(Integer, default=0)
    risky: Mapped[int] = mapped_column(Integer, default=0)
    sla_due: Mapped[int] = mapped_column(Integer, default=0)
    sla_met: Mapped[int] = mapped_column(Integer, default=0)
    emotional_load: Mapped[float] = mapped_column(Float, default=0.0)


class AnalyticsCount(Base):
    __tablename__ = "analytics_counts"

    grain: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    queue: Mapped[str] = mapped_column(String(24), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    intent: Mapped[str] = mapped_column(String(48), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
