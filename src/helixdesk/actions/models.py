"""Tables of the business actions: the audit log, idempotency records, exchange rates, disputes.

Money is exact decimal text (rates) or integer minor units with a currency (disputes), never floats.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.db.base import Base, UTCDateTime


class ActionAudit(Base):
    """One row per action run: read or write, success or failure (append-only)."""

    __tablename__ = "action_audit"
    __table_args__ = (Index("ix_action_audit_customer_at", "customer_ref", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(16))  # bot, agent, api
    customer_ref: Mapped[str | None] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    input_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # ok, replayed, failed
    error_code: Mapped[str | None] = mapped_column(String(48))
    summary: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))


class ActionIdempotency(Base):
    """The first result of a state-changing action run under an idempotency key."""

    __tablename__ = "action_idempotency"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    action: Mapped[str] = mapped_column(String(48))
    customer_ref: Mapped[str | None] = mapped_column(String(32))
    request_json: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # running, done
    result_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExchangeRate(Base):
    """The bank's published rate for one currency against the base (CNY per 1 unit, exact text)."""

    __tablename__ = "exchange_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), unique=True)
    base: Mapped[str] = mapped_column(String(3))
    buy: Mapped[str] = mapped_column(String(32))  # the bank buys the currency at this rate
    sell: Mapped[str] = mapped_column(String(32))  # the bank sells the currency at this rate
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (UniqueConstraint("customer_ref", "transaction_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    customer_ref: Mapped[str] = mapped_column(String(32), index=True)
    transaction_ref: Mapped[str] = mapped_column(String(32))
    account_number: Mapped[str] = mapped_column(String(32))
    merchant: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(32))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # positive: the disputed amount
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # opened, approved, pending_review, rejected
    decided_by: Mapped[str | None] = mapped_column(String(8))  # rule, human
    rule: Mapped[str | None] = mapped_column(String(64))
    route: Mapped[str | None] = mapped_column(String(32))
    refund_transaction_ref: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    conversation_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
