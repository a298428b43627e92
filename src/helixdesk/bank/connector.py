"""The `BankConnector` protocol: how Helixdesk reads and changes the customer's real banking data.

A bank plugs in its own core systems by implementing this protocol. Records are frozen dataclasses
with `Decimal` money; nothing here depends on a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Customer:
    ref: str
    name_zh: str
    name_en: str
    gender: str
    birth_date: date
    segment: str
    value_tier: str
    risk_tolerance: str
    preferred_language: str
    phone: str
    email: str | None
    city: str
    customer_since: date
    interests: tuple[str, ...]
    # The employee code of the customer's relationship manager, when the bank assigned one.
    relationship_manager: str | None = None

    def age(self, on: date) -> int:
        years = on.year - self.birth_date.year
        return years - ((on.month, on.day) < (self.birth_date.month, self.birth_date.day))


@dataclass(frozen=True, slots=True)
class Account:
    number: str
    customer_ref: str
    kind: str
    currency: str
    balance: Decimal
    available: Decimal
    status: str
    opened_on: date


@dataclass(frozen=True, slots=True)
class Card:
    customer_ref: str
    account_number: str
    kind: str
    product: str
    last4: str
    status: str
    credit_limit: Decimal | None
    daily_limit: Decimal
    expires: str
    overseas_enabled: bool


@dataclass(frozen=True, slots=True)
class Transaction:
    ref: str
    account_number: str
    card_last4: str | None
    occurred_at: datetime
    amount: Decimal
    currency: str
    merchant: str
    category: str
    channel: str
    status: str
    description: str


@dataclass(frozen=True, slots=True)
class Statement:
    card_last4: str
    period: str
    statement_date: date
    due_date: date
    amount_due: Decimal
    minimum_payment: Decimal
    paid: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class InstallmentPlan:
    ref: str
    card_last4: str
    description: str
    principal: Decimal
    periods: int
    periods_paid: int
    fee_rate_per_period: Decimal
    start_date: date
    currency: str
    status: str


@dataclass(frozen=True, slots=True)
class Transfer:
    ref: str
    account_number: str
    payee_name: str
    payee_account: str
    payee_bank: str
    amount: Decimal
    currency: str
    kind: str
    status: str
    failure_reason: str | None
    created_at: datetime
    expected_arrival: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class MonthlyActivity:
    """One calendar month of a customer's activity, as a bank's data warehouse reports it.

    `month` is the first day of the month. Money is in CNY: `balance` is the customer's total
    deposit balance at the end of the month, `card_spend` what their cards spent in it. Counts are
    of that month: posted transactions, cross-border remittances, digital (app and web) logins, and
    the products (accounts, cards, wealth products) held at its end, opened and closed in it.
    """

    month: date
    balance: Decimal
    transactions: int
    card_spend: Decimal
    payroll: bool
    remittances: int
    products_held: int
    products_opened: int
    products_closed: int
    logins: int

    @property
    def activity(self) -> int:
        """Transactions and logins together: what "the customer still uses the bank" means here."""
        return self.transactions + self.logins


@dataclass(frozen=True, slots=True)
class CardReissue:
    """A replacement card: the new card (inactive until activated) and the replaced one."""

    old_card: Card
    new_card: Card
    expected_delivery: date


@runtime_checkable
class BankConnector(Protocol):
    """Read (and, where noted, change) one bank's customer data."""

    def get_customer(self, ref: str) -> Customer | None: ...

    def find_by_phone(self, phone: str) -> Customer | None:
        """The one customer with this phone number on file (E.164, `+8613812345678`); None when no
        customer or several share it."""
        ...

    def list_customers(self, *, after: str | None = None, limit: int = 500) -> list[Customer]:
        """A page of the bank's customers in order of their reference: those after `after` (from
        the first when None), at most `limit`. An empty page is the end."""
        ...

    def list_accounts(self, customer_ref: str) -> list[Account]: ...

    def list_cards(self, customer_ref: str) -> list[Card]: ...

    def list_transactions(
        self,
        customer_ref: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[Transaction]: ...

    def list_statements(self, customer_ref: str, *, limit: int = 3) -> list[Statement]: ...

    def list_installment_plans(self, customer_ref: str) -> list[InstallmentPlan]: ...

    def list_transfers(self, customer_ref: str, *, limit: int = 20) -> list[Transfer]: ...

    def monthly_activity(self, customer_ref: str, *, months: int = 24) -> list[MonthlyActivity]:
        """The customer's last `months` months of activity, oldest first (empty when the bank
        reports none)."""
        ...

    def set_card_status(self, customer_ref: str, last4: str, status: str) -> Card:
        """Change a card's status (e.g. freeze). Raises NotFoundError for an unknown card."""
        ...

    def post_credit(
        self,
        customer_ref: str,
        *,
        ref: str,
        account_number: str,
        amount: Decimal,
        currency: str,
        merchant: str,
        description: str,
        occurred_at: datetime,
        card_last4: str | None = None,
    ) -> Transaction:
        """Credit an account (a refund or an approved dispute). Idempotent by `ref`.

        Posting the same `ref` again returns the existing transaction and changes nothing.
        Raises NotFoundError (`account_not_found`) for an account the customer does not hold and
        ValidationFailedError for a non-positive amount.
        """
        ...

    def request_card_reissue(self, customer_ref: str, last4: str, *, requested_on: date) -> CardReissue:
        """Order a replacement for a frozen or lost card; the old card is cancelled.

        Raises NotFoundError (`card_not_found`) and ConflictError (`card_not_frozen`) when the
        card is still usable (freeze it first).
        """
        ...
