"""A migrated database with the demo bank, the pack's FAQ and demo exchange rates (scenario tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.connector import BankConnector, InstallmentPlan, Transaction
from helixdesk.simulation.demo import demo_database


def seeded_database(url: str, *, customers: int = 60, seed: int = 11) -> tuple[Engine, sessionmaker[Session]]:
    """Migrate `url` and load the demo bank, the FAQ and today's demo rates; the caller disposes."""
    return demo_database(url, customers=customers, seed=seed)


def seeded_file(tmp_path_factory: pytest.TempPathFactory, name: str, *, customers: int = 60) -> str:
    """The URL of a fresh SQLite file in a temporary folder `name`, seeded as `seeded_database` does."""
    url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'helixdesk.db'}"
    engine, _ = seeded_database(url, customers=customers)
    engine.dispose()
    return url


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
