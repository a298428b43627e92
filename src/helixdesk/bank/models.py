"""Tables of the embedded demo core bank. A real bank replaces these with its own connector.

Money is stored as integer minor units (fen/cents) with a currency code, never as floats.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.db.base import Base, UTCDateTime


class BankCustomer(Base):
    __tablename__ = "bank_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    gender: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(24))
    value_tier: Mapped[str] = mapped_column(String(16))
    risk_tolerance: Mapped[str] = mapped_column(String(16))
    preferred_language: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str] = mapped_column(String(24))
    email: Mapped[str | None] = mapped_column(String(128))
    city: Mapped[str] = mapped_column(String(64))
    customer_since: Mapped[date] = mapped_column(Date)
    interests: Mapped[str] = mapped_column(String(256), default="")
    relationship_manager: Mapped[str | None] = mapped_column(String(32))


class BankAccount(Base):
    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("bank_customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # current, savings, time_deposit, credit
    currency: Mapped[str] = mapped_column(String(3))
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    available_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[date] = mapped_column(Date)


class BankCard(Base):
    __tablename__ = "bank_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("bank_customers.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # debit, credit
    product: Mapped[str] = mapped_column(String(64))
    last4: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))  # active, inactive, frozen, lost, cancelled
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    daily_limit_minor: Mapped[int] = mapped_column(BigInteger)
    expires: Mapped[str] = mapped_column(String(5))  # MM/YY
    overseas_enabled: Mapped[bool] = mapped_column(default=False)


class BankTransaction(Base):
    __tablename__ = "bank_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("bank_cards.id", ondelete="SET NULL"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # negative: debit, positive: credit
    currency: Mapped[str] = mapped_column(String(3))
    merchant: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # pos, online, atm, transfer, mobile, counter
    status: Mapped[str] = mapped_column(String(16))  # posted, pending, failed, reversed
    description: Mapped[str] = mapped_column(String(256), default="")


class BankStatement(Base):
    __tablename__ = "bank_statements"
    __table_args__ = (UniqueConstraint("card_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("bank_cards.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    statement_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    minimum_payment_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))


class BankInstallmentPlan(Base):
    __tablename__ = "bank_installment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("bank_cards.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(128))
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    periods: Mapped[int] = mapped_column(Integer)
    periods_paid: Mapped[int] = mapped_column(Integer)
    fee_rate_per_period: Mapped[str] = mapped_column(String(16))  # exact decimal text, e.g. "0.0060"
    start_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # active, paid_off, prepaid


class BankTransfer(Base):
    __tablename__ = "bank_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"), index=True)
    payee_name: Mapped[str] = mapped_column(String(128))
    payee_account: Mapped[str] = mapped_column(String(40))
    payee_bank: Mapped[str] = mapped_column(String(128))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))  # domestic, same_bank, cross_border
    status: Mapped[str] = mapped_column(String(16))  # completed, pending, failed, returned
    failure_reason: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expected_arrival: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BankMonthlyActivity(Base):
    """One month of a customer's activity (`bank.connector.MonthlyActivity`); money in CNY minor units."""

    __tablename__ = "bank_monthly_activity"
    __table_args__ = (UniqueConstraint("customer_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("bank_customers.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    transactions: Mapped[int] = mapped_column(Integer)
    card_spend_minor: Mapped[int] = mapped_column(BigInteger)
    payroll: Mapped[bool] = mapped_column(Boolean)
    remittances: Mapped[int] = mapped_column(Integer)
    products_held: Mapped[int] = mapped_column(Integer)
    products_opened: Mapped[int] = mapped_column(Integer)
    products_closed: Mapped[int] = mapped_column(Integer)
    logins: Mapped[int] = mapped_column(Integer)
