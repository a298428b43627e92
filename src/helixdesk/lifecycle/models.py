"""Tables of the strategy store (the bank's active strategies and every version of each) and of the
touches strategies gave."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class StrategyRow(Base):
    """One active strategy: its definition as `Strategy` validates it, at `position` in the set."""

    __tablename__ = "lifecycle_strategies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StrategyVersionRow(Base):
    """A strategy as it stood after a change: who (`actor`: a staff id or `system:pack`), when, what."""

    __tablename__ = "lifecycle_strategy_versions"
    __table_args__ = (UniqueConstraint("strategy_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(128))
    actor_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TouchRow(Base):
    """One touch a strategy gave a customer, or held back from a holdout customer (`arm`), once per
    `key`: the same occasion never gives twice. `status`: `given`, `held_out` (the customer is in
    the strategy's holdout group), `skipped` (with `outcome`: why nothing was given)."""

    __tablename__ = "lifecycle_touches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    strategy_id: Mapped[str] = mapped_column(String(64), index=True)
    strategy_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(12))  # bot, console, auto
    trigger: Mapped[str | None] = mapped_column(String(24))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    arm: Mapped[str] = mapped_column(String(12))  # touched, holdout
    status: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str | None] = mapped_column(String(48))
    value_minor: Mapped[int | None] = mapped_column(Integer)
    goodwill_credit_id: Mapped[str | None] = mapped_column(String(36))
    notice_id: Mapped[str | None] = mapped_column(String(64))  # the customer's notice (gateway id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
