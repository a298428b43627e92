"""`DemoBankConnector`: the embedded core bank over the `bank_*` tables."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.connector import (
    Account,
    Card,
    CardReissue,
    Customer,
    InstallmentPlan,
    MonthlyActivity,
    Statement,
    Transaction,
    Transfer,
)
from helixdesk.bank.models import (
    BankAccount,
    BankCard,
    BankCustomer,
    BankInstallmentPlan,
    BankMonthlyActivity,
    BankStatement,
    BankTransaction,
    BankTransfer,
)
from helixdesk.bank.money import from_minor, to_minor
from helixdesk.core.errors import ConflictError, NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction

CARD_STATUSES = ("active", "inactive", "frozen", "lost", "cancelled")
REISSUABLE_STATUSES = ("frozen", "lost")
# The demo bank delivers a replacement card within this many days.
DELIVERY_DAYS = 7


class DemoBankConnector:
    def __init__(self, *, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def get_customer(self, ref: str) -> Customer | None:
        with reading(self._sessions) as s:
            row = s.scalar(select(BankCustomer).where(BankCustomer.ref == ref))
            return None if row is None else _customer(row)

    def find_by_phone(self, phone: str) -> Customer | None:
        with reading(self._sessions) as s:
            rows = s.scalars(select(BankCustomer).where(BankCustomer.phone == phone).limit(2)).all()
            return _customer(rows[0]) if len(rows) == 1 else None

    def list_customers(self, *, after: str | None = None, limit: int = 500) -> list[Customer]:
        query = select(BankCustomer).order_by(BankCustomer.ref).limit(max(limit, 0))
        if after is not None:
            query = query.where(BankCustomer.ref > after)
        with reading(self._sessions) as s:
            return [_customer(r) for r in s.scalars(query)]

    def list_accounts(self, customer_ref: str) -> list[Account]:
        with reading(self._sessions) as s:
            rows = s.scalars(
                select(BankAccount)
                .join(BankCustomer)
                .where(BankCustomer.ref == customer_ref)
                .order_by(BankAccount.id)
            )
            return [_account(r, customer_ref) for r in rows]

    def list_cards(self, customer_ref: str) -> list[Card]:
        with reading(self._sessions) as s:
            rows = s.execute(
                select(BankCard, BankAccount.number)
                .join(BankAccount, BankCard.account_id == BankAccount.id)
                .join(BankCustomer, BankCard.customer_id == BankCustomer.id)
                .where(BankCustomer.ref == customer_ref)
                .order_by(BankCard.id)
            ).all()
            return [_card(card, customer_ref, number) for card, number in rows]

    def list_transactions(
        self,
        customer_ref: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[Transaction]:
        query = (
            select(BankTransaction, BankAccount.number, BankCard.last4)
            .join(BankAccount, BankTransaction.account_id == BankAccount.id)
            .join(BankCustomer, BankAccount.customer_id == BankCustomer.id)
            .outerjoin(BankCard, BankTransaction.card_id == BankCard.id)
            .where(BankCustomer.ref == customer_ref)
        )
        if since is not None:
            query = query.where(BankTransaction.occurred_at >= since)
        if until is not None:
            query = query.where(BankTransaction.occurred_at < until)
        query = query.order_by(BankTransaction.occurred_at.desc(), BankTransaction.id.desc()).limit(limit)
        with reading(self._sessions) as s:
            return [_transaction(t, number, last4) for t, number, last4 in s.execute(query).all()]

    def list_statements(self, customer_ref: str, *, limit: int = 3) -> list[Statement]:
        with reading(self._sessions) as s:
            rows = s.execute(
                select(BankStatement, BankCard.last4)
                .join(BankCard, BankStatement.card_id == BankCard.id)
                .join(BankCustomer, BankCard.customer_id == BankCustomer.id)
                .where(BankCustomer.ref == customer_ref)
                .order_by(BankStatement.statement_date.desc(), BankStatement.id.desc())
                .limit(limit)
            ).all()
            return [_statement(st, last4) for st, last4 in rows]

    def list_installment_plans(self, customer_ref: str) -> list[InstallmentPlan]:
        with reading(self._sessions) as s:
            rows = s.execute(
                select(BankInstallmentPlan, BankCard.last4)
                .join(BankCard, BankInstallmentPlan.card_id == BankCard.id)
                .join(BankCustomer, BankCard.customer_id == BankCustomer.id)
                .where(BankCustomer.ref == customer_ref)
                .order_by(BankInstallmentPlan.start_date.desc(), BankInstallmentPlan.id)
            ).all()
            return [_plan(p, last4) for p, last4 in rows]

    def list_transfers(self, customer_ref: str, *, limit: int = 20) -> list[Transfer]:
        with reading(self._sessions) as s:
            rows = s.execute(
                select(BankTransfer, BankAccount.number)
                .join(BankAccount, BankTransfer.account_id == BankAccount.id)
                .join(BankCustomer, BankAccount.customer_id == BankCustomer.id)
                .where(BankCustomer.ref == customer_ref)
                .order_by(BankTransfer.created_at.desc(), BankTransfer.id.desc())
                .limit(limit)
            ).all()
            return [_transfer(t, number) for t, number in rows]

    def monthly_activity(self, customer_ref: str, *, months: int = 24) -> list[MonthlyActivity]:
        with reading(self._sessions) as s:
            rows = s.scalars(
                select(BankMonthlyActivity)
                .join(BankCustomer, BankMonthlyActivity.customer_id == BankCustomer.id)
                .where(BankCustomer.ref == customer_ref)
                .order_by(BankMonthlyActivity.month.desc())
                .limit(max(months, 0))
            ).all()
            return [monthly(r) for r in reversed(rows)]

    def set_card_status(self, customer_ref: str, last4: str, status: str) -> Card:
        if status not in CARD_STATUSES:
            raise ValidationFailedError(f"unknown card status {status!r}; one of {', '.join(CARD_STATUSES)}")
        with transaction(self._sessions) as s:
            row = s.execute(
                select(BankCard, BankAccount.number)
                .join(BankAccount, BankCard.account_id == BankAccount.id)
                .join(BankCustomer, BankCard.customer_id == BankCustomer.id)
                .where(BankCustomer.ref == customer_ref, BankCard.last4 == last4)
                .order_by(BankCard.id)
            ).first()
            if row is None:
                raise NotFoundError(
                    f"customer {customer_ref} has no card ending {last4}", code="card_not_found"
                )
            card, number = row
            card.status = status
            return _card(card, customer_ref, number)

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
        if amount <= 0:
            raise ValidationFailedError(f"a credit must be positive, not {amount}", code="invalid_amount")
        with transaction(self._sessions) as s:
            account = s.scalar(
                select(BankAccount)
                .join(BankCustomer, BankAccount.customer_id == BankCustomer.id)
                .where(BankCustomer.ref == customer_ref, BankAccount.number == account_number)
                .with_for_update()
            )
            if account is None:
                raise NotFoundError(
                    f"customer {customer_ref} has no account {account_number}", code="account_not_found"
                )
            existing = s.scalar(select(BankTransaction).where(BankTransaction.ref == ref))
            if existing is not None:
                if existing.account_id != account.id:
                    raise ConflictError(f"transaction {ref} belongs to another account", code="ref_in_use")
                return _transaction(existing, account_number, _last4(s, existing.card_id))
            card_id = None
            if card_last4 is not None:
                card_id = s.scalar(
                    select(BankCard.id).where(BankCard.account_id == account.id, BankCard.last4 == card_last4)
                )
            minor = to_minor(amount, currency)
            row = BankTransaction(
                ref=ref,
                account_id=account.id,
                card_id=card_id,
                occurred_at=occurred_at,
                amount_minor=minor,
                currency=currency,
                merchant=merchant,
                category="refund",
                channel="refund",
                status="posted",
                description=description,
            )
            s.add(row)
            if currency == account.currency:
                # A credit in another currency is settled by the bank's FX process, not here.
                account.balance_minor += minor
                account.available_minor += minor
            s.flush()
            return _transaction(row, account_number, card_last4 if card_id is not None else None)

    def request_card_reissue(self, customer_ref: str, last4: str, *, requested_on: date) -> CardReissue:
        with transaction(self._sessions) as s:
            customer_id = s.scalar(select(BankCustomer.id).where(BankCustomer.ref == customer_ref))
            rows = s.execute(
                select(BankCard, BankAccount.number)
                .join(BankAccount, BankCard.account_id == BankAccount.id)
                .where(BankCard.customer_id == customer_id)
                .order_by(BankCard.id)
                .with_for_update()
            ).all()
            match = [(c, n) for c, n in rows if c.last4 == last4 and c.status != "cancelled"]
            if customer_id is None or not match:
                raise NotFoundError(
                    f"customer {customer_ref} has no card ending {last4}", code="card_not_found"
                )
            old, number = match[0]
            if old.status not in REISSUABLE_STATUSES:
                raise ConflictError(
                    f"card ending {last4} is {old.status}; freeze it before ordering a replacement",
                    code="card_not_frozen",
                )
            taken = {c.last4 for c, _ in rows}
            rng = random.Random(f"{customer_ref}:{last4}:{len(rows)}")
            new_last4 = f"{rng.randrange(10000):04d}"
            while new_last4 in taken:
                new_last4 = f"{rng.randrange(10000):04d}"
            new = BankCard(
                customer_id=old.customer_id,
                account_id=old.account_id,
                kind=old.kind,
                product=old.product,
                last4=new_last4,
                status="inactive",
                credit_limit_minor=old.credit_limit_minor,
                daily_limit_minor=old.daily_limit_minor,
                expires=f"{requested_on.month:02d}/{(requested_on.year + 5) % 100:02d}",
                overseas_enabled=old.overseas_enabled,
            )
            s.add(new)
            old.status = "cancelled"
            s.flush()
            return CardReissue(
                old_card=_card(old, customer_ref, number),
                new_card=_card(new, customer_ref, number),
                expected_delivery=requested_on + timedelta(days=DELIVERY_DAYS),
            )


def _last4(s: Session, card_id: int | None) -> str | None:
    return None if card_id is None else s.scalar(select(BankCard.last4).where(BankCard.id == card_id))


def _customer(r: BankCustomer) -> Customer:
    return Customer(
        ref=r.ref,
        name_zh=r.name_zh,
        name_en=r.name_en,
        gender=r.gender,
        birth_date=r.birth_date,
        segment=r.segment,
        value_tier=r.value_tier,
        risk_tolerance=r.risk_tolerance,
        preferred_language=r.preferred_language,
        phone=r.phone,
        email=r.email,
        city=r.city,
        customer_since=r.customer_since,
        interests=tuple(i for i in r.interests.split(",") if i),
        relationship_manager=r.relationship_manager,
    )


def monthly(r: BankMonthlyActivity) -> MonthlyActivity:
    """A stored month as the connector's record."""
    return MonthlyActivity(
        month=r.month,
        balance=from_minor(r.balance_minor, "CNY"),
        transactions=r.transactions,
        card_spend=from_minor(r.card_spend_minor, "CNY"),
        payroll=r.payroll,
        remittances=r.remittances,
        products_held=r.products_held,
        products_opened=r.products_opened,
        products_closed=r.products_closed,
        logins=r.logins,
    )


def _account(r: BankAccount, customer_ref: str) -> Account:
    return Account(
        number=r.number,
        customer_ref=customer_ref,
        kind=r.kind,
        currency=r.currency,
        balance=from_minor(r.balance_minor, r.currency),
        available=from_minor(r.available_minor, r.currency),
        status=r.status,
        opened_on=r.opened_on,
    )


def _card(r: BankCard, customer_ref: str, account_number: str) -> Card:
    return Card(
        customer_ref=customer_ref,
        account_number=account_number,
        kind=r.kind,
        product=r.product,
        last4=r.last4,
        status=r.status,
        credit_limit=None if r.credit_limit_minor is None else from_minor(r.credit_limit_minor, "CNY"),
        daily_limit=from_minor(r.daily_limit_minor, "CNY"),
        expires=r.expires,
        overseas_enabled=r.overseas_enabled,
    )


def _transaction(r: BankTransaction, account_number: str, last4: str | None) -> Transaction:
    return Transaction(
        ref=r.ref,
        account_number=account_number,
        card_last4=last4,
        occurred_at=r.occurred_at,
        amount=from_minor(r.amount_minor, r.currency),
        currency=r.currency,
        merchant=r.merchant,
        category=r.category,
        channel=r.channel,
        status=r.status,
        description=r.description,
    )


def _statement(r: BankStatement, last4: str) -> Statement:
    return Statement(
        card_last4=last4,
        period=r.period,
        statement_date=r.statement_date,
        due_date=r.due_date,
        amount_due=from_minor(r.amount_due_minor, r.currency),
        minimum_payment=from_minor(r.minimum_payment_minor, r.currency),
        paid=from_minor(r.paid_minor, r.currency),
        currency=r.currency,
    )


def _plan(r: BankInstallmentPlan, last4: str) -> InstallmentPlan:
    return InstallmentPlan(
        ref=r.ref,
        card_last4=last4,
        description=r.description,
        principal=from_minor(r.principal_minor, r.currency),
        periods=r.periods,
        periods_paid=r.periods_paid,
        fee_rate_per_period=Decimal(r.fee_rate_per_period),
        start_date=r.start_date,
        currency=r.currency,
        status=r.status,
    )


def _transfer(r: BankTransfer, account_number: str) -> Transfer:
    return Transfer(
        ref=r.ref,
        account_number=account_number,
        payee_name=r.payee_name,
        payee_account=r.payee_account,
        payee_bank=r.payee_bank,
        amount=from_minor(r.amount_minor, r.currency),
        currency=r.currency,
        kind=r.kind,
        status=r.status,
        failure_reason=r.failure_reason,
        created_at=r.created_at,
        expected_arrival=r.expected_arrival,
        completed_at=r.completed_at,
    )
