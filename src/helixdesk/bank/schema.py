"""The documented JSON interchange format of the demo core bank (see docs/bank-import.md).

Records nest: customers → accounts → cards → statements / installment plans; transactions and
transfers belong to an account. Money is a decimal string or number with at most two decimals.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Money = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime needs a timezone offset, e.g. 2026-11-20T09:30:00+08:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatementIn(_Record):
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    statement_date: date
    due_date: date
    amount_due: Money
    minimum_payment: Money
    paid: Money = Decimal("0")
    currency: Currency = "CNY"

    @model_validator(mode="after")
    def _consistent(self) -> StatementIn:
        if self.due_date < self.statement_date:
            raise ValueError("due_date is before statement_date")
        if self.minimum_payment > self.amount_due:
            raise ValueError("minimum_payment is larger than amount_due")
        return self


class InstallmentPlanIn(_Record):
    ref: str = Field(min_length=1, max_length=32)
    description: str = Field(max_length=128)
    principal: Money = Field(gt=0)
    periods: int = Field(ge=1, le=60)
    periods_paid: int = Field(ge=0)
    fee_rate_per_period: Decimal = Field(ge=0, le=Decimal("0.05"), max_digits=8, decimal_places=6)
    start_date: date
    currency: Currency = "CNY"
    status: Literal["active", "paid_off", "prepaid"] = "active"

    @model_validator(mode="after")
    def _paid_within(self) -> InstallmentPlanIn:
        if self.periods_paid > self.periods:
            raise ValueError("periods_paid is larger than periods")
        return self


class CardIn(_Record):
    kind: Literal["debit", "credit"]
    product: str = Field(min_length=1, max_length=64)
    last4: str = Field(pattern=r"^\d{4}$")
    status: Literal["active", "inactive", "frozen", "lost", "cancelled"] = "active"
    credit_limit: Money | None = None
    daily_limit: Money = Decimal("50000")
    expires: str = Field(pattern=r"^(0[1-9]|1[0-2])/\d{2}$")
    overseas_enabled: bool = False
    statements: list[StatementIn] = []
    installment_plans: list[InstallmentPlanIn] = []

    @model_validator(mode="after")
    def _credit_fields(self) -> CardIn:
        if self.kind == "credit" and self.credit_limit is None:
            raise ValueError("a credit card needs credit_limit")
        if self.kind == "debit" and (self.statements or self.installment_plans or self.credit_limit):
            raise ValueError("a debit card has no credit_limit, statements or installment_plans")
        return self


class TransactionIn(_Record):
    ref: str = Field(min_length=1, max_length=32)
    occurred_at: AwareDatetime
    amount: Money
    currency: Currency = "CNY"
    merchant: str = Field(min_length=1, max_length=128)
    category: str = Field(max_length=32, default="other")
    channel: Literal["pos", "online", "atm", "transfer", "mobile", "counter"]
    status: Literal["posted", "pending", "failed", "reversed"] = "posted"
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    description: str = Field(default="", max_length=256)


class TransferIn(_Record):
    ref: str = Field(min_length=1, max_length=32)
    payee_name: str = Field(min_length=1, max_length=128)
    payee_account: str = Field(min_length=4, max_length=40)
    payee_bank: str = Field(min_length=1, max_length=128)
    amount: Money = Field(gt=0)
    currency: Currency = "CNY"
    kind: Literal["domestic", "same_bank", "cross_border"]
    status: Literal["completed", "pending", "failed", "returned"]
    failure_reason: str | None = Field(default=None, max_length=128)
    created_at: AwareDatetime
    expected_arrival: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _status_fields(self) -> TransferIn:
        if self.status in ("failed", "returned") and not self.failure_reason:
            raise ValueError(f"a {self.status} transfer needs failure_reason")
        if self.status == "completed" and self.completed_at is None:
            raise ValueError("a completed transfer needs completed_at")
        return self


class AccountIn(_Record):
    number: str = Field(pattern=r"^\d{8,32}$")
    kind: Literal["current", "savings", "time_deposit", "credit"]
    currency: Currency = "CNY"
    balance: Money
    available: Money
    status: Literal["active", "dormant", "frozen", "closed"] = "active"
    opened_on: date
    cards: list[CardIn] = []
    transactions: list[TransactionIn] = []
    transfers: list[TransferIn] = []

    @model_validator(mode="after")
    def _card_refs(self) -> AccountIn:
        tails = {c.last4 for c in self.cards}
        for t in self.transactions:
            if t.card_last4 is not None and t.card_last4 not in tails:
                raise ValueError(
                    f"transaction {t.ref} names card_last4 {t.card_last4}, not a card of this account"
                )
        return self


class MonthlyActivityIn(_Record):
    """One month of the customer's activity (optional history; money in CNY)."""

    month: date
    balance: Money
    transactions: int = Field(ge=0)
    card_spend: Money = Field(ge=0)
    payroll: bool
    remittances: int = Field(default=0, ge=0)
    products_held: int = Field(ge=0)
    products_opened: int = Field(default=0, ge=0)
    products_closed: int = Field(default=0, ge=0)
    logins: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> MonthlyActivityIn:
        if self.month.day != 1:
            raise ValueError(f"month must be the first day of a month, e.g. {self.month:%Y-%m}-01")
        if self.products_opened > self.products_held:
            raise ValueError("products_opened is larger than products_held")
        return self


class CustomerIn(_Record):
    ref: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=128)
    gender: Literal["F", "M", "X"]
    birth_date: date
    segment: Literal["mass", "affluent", "private", "small_business"]
    value_tier: Literal["standard", "silver", "gold", "platinum", "vip"]
    risk_tolerance: Literal["conservative", "moderate", "balanced", "growth", "aggressive"]
    preferred_language: Literal["zh-Hans", "zh-Hant", "en"]
    phone: str = Field(pattern=r"^\+\d{8,15}$")
    email: str | None = Field(default=None, max_length=128)
    city: str = Field(min_length=1, max_length=64)
    customer_since: date
    interests: list[str] = []
    relationship_manager: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    accounts: list[AccountIn] = []
    monthly_activity: list[MonthlyActivityIn] = []

    @model_validator(mode="after")
    def _months(self) -> CustomerIn:
        joined = self.customer_since.replace(day=1)
        seen: set[date] = set()
        for m in self.monthly_activity:
            if m.month < joined:
                raise ValueError(
                    f"monthly_activity {m.month:%Y-%m} is before customer_since {self.customer_since}"
                )
            if m.month in seen:
                raise ValueError(f"monthly_activity has {m.month:%Y-%m} twice")
            seen.add(m.month)
        return self


class BankFile(_Record):
    version: Literal[1] = 1
    customers: list[CustomerIn]

    @model_validator(mode="after")
    def _unique_refs(self) -> BankFile:
        _unique("customer ref", [c.ref for c in self.customers])
        accounts = [a for c in self.customers for a in c.accounts]
        _unique("account number", [a.number for a in accounts])
        _unique("transaction ref", [t.ref for a in accounts for t in a.transactions])
        _unique("transfer ref", [t.ref for a in accounts for t in a.transfers])
        _unique(
            "installment plan ref",
            [p.ref for a in accounts for c in a.cards for p in c.installment_plans],
        )
        return self


def _unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)
