"""A migrated database with the demo bank, the pack's FAQ and demo exchange rates (scenario tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.rates import RateService
from helixdesk.bank.connector import BankConnector, InstallmentPlan, Transaction
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.knowledge.ingest import ingest
from helixdesk.nlu.embeddings import embed


def seeded_database(url: str, *, customers: int = 60, seed: int = 11) -> tuple[Engine, sessionmaker[Session]]:
    """Migrate `url` and load the demo bank, the FAQ and today's demo rates; the caller disposes."""
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(customers, seed=seed))
    ingest(sessions, [], embed=embed, pack="retail_bank")
    RateService(sessions=sessions).seed_demo(as_of=datetime.now(UTC))
    return engine, sessions


class CustomerPicker:
    """Customers of the seeded bank, each handed out once per test module (one-time codes to one
    customer are spaced a minute apart, so two scenarios must not share one)."""

    def __init__(self, bank: BankConnector, *, customers: int = 60) -> None:
        self.bank = bank
        self.customers = customers
        self.used: set[str] = set()

    def __call__(self, want: Callable[[str, Any], bool]) -> str:
        for i in range(1, self.customers + 1):
            ref = f"C{i:06d}"
            customer = self.bank.get_customer(ref)
            if ref not in self.used and customer is not None and want(ref, customer):
                self.used.add(ref)
                return ref
        raise AssertionError("the seeded bank has no customer for this scenario")

    def with_card_debit(self, language: str) -> tuple[str, Transaction]:
        """A customer of `language` with a posted card payment, and that payment."""

        def debit(ref: str) -> Transaction | None:
            return next(
                (
                    t
                    for t in self.bank.list_transactions(ref, limit=20)
                    if t.amount < 0 and t.status == "posted" and t.channel in ("pos", "online")
                ),
                None,
            )

        ref = self(lambda r, c: c.preferred_language == language and debit(r) is not None)
        txn = debit(ref)
        assert txn is not None
        return ref, txn

    def with_one_plan(self, language: str) -> tuple[str, InstallmentPlan]:
        """A customer of `language` with exactly one active instalment plan, and that plan."""

        def active(ref: str) -> list[InstallmentPlan]:
            return [p for p in self.bank.list_installment_plans(ref) if p.status == "active"]

        ref = self(lambda r, c: c.preferred_language == language and len(active(r)) == 1)
        return ref, active(ref)[0]


def expected_prepayment(plan: InstallmentPlan) -> tuple[Decimal, Decimal]:
    """The quote worked out by hand under the pack's example policy: the remaining principal, and
    the fee of every remaining period."""
    per_period = (plan.principal / plan.periods).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    remaining = plan.principal - per_period * plan.periods_paid
    fee = (plan.principal * plan.fee_rate_per_period * (plan.periods - plan.periods_paid)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return remaining, fee
