"""Where the training histories come from: the bank's `bank_monthly_activity` table, or a freshly
generated demo population (`bank.history.demo_population`); and the hash that names the data."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.connector import MonthlyActivity
from helixdesk.bank.demo import monthly
from helixdesk.bank.history import SimulatedCustomer
from helixdesk.bank.models import BankCustomer, BankMonthlyActivity
from helixdesk.db.session import reading
from helixdesk.lifecycle.customer import CustomerHistory


def bank_histories(sessions: sessionmaker[Session], *, today: date) -> list[CustomerHistory]:
    """Every customer of the bank with their stored months (customers without months have none)."""
    with reading(sessions) as s:
        customers = s.execute(
            select(
                BankCustomer.id,
                BankCustomer.ref,
                BankCustomer.birth_date,
                BankCustomer.customer_since,
                BankCustomer.value_tier,
            ).order_by(BankCustomer.ref)
        ).all()
        months: dict[int, list[MonthlyActivity]] = defaultdict(list)
        for row in s.scalars(select(BankMonthlyActivity).order_by(BankMonthlyActivity.customer_id)):
            months[row.customer_id].append(monthly(row))
    return [
        CustomerHistory.of(
            ref=ref,
            birth_date=birth,
            customer_since=since,
            value_tier=tier,
            months=months.get(customer_id, []),
            today=today,
        )
        for customer_id, ref, birth, since, tier in customers
    ]


def simulated_histories(population: Sequence[SimulatedCustomer]) -> list[CustomerHistory]:
    return [
        CustomerHistory.of(
            ref=c.profile.ref,
            birth_date=c.profile.birth_date,
            customer_since=c.profile.customer_since,
            value_tier=c.profile.value_tier,
            months=c.history.months,
            today=c.profile.customer_since,
        )
        for c in population
    ]


def data_sha256(histories: Sequence[CustomerHistory]) -> str:
    """A hash of everything the model learns from: the profiles and every month, in ref order."""
    digest = hashlib.sha256()
    for h in sorted(histories, key=lambda h: h.ref):
        head = [h.ref, h.birth_date.isoformat(), h.customer_since.isoformat(), h.value_tier]
        rows = [
            [
                m.month.isoformat(),
                str(m.balance),
                m.transactions,
                str(m.card_spend),
                m.payroll,
                m.remittances,
                m.products_held,
                m.products_opened,
                m.products_closed,
                m.logins,
            ]
            for m in h.months
        ]
        digest.update(json.dumps([head, rows], separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def months_of(s: Session, refs: Sequence[str], *, chunk: int = 500) -> dict[str, list[MonthlyActivity]]:
    """The stored months of each of these customers (by bank ref), oldest first, in one query per
    `chunk` customers; a customer without months is absent."""
    out: dict[str, list[MonthlyActivity]] = defaultdict(list)
    wanted = sorted(set(refs))
    for start in range(0, len(wanted), chunk):
        rows = s.execute(
            select(BankCustomer.ref, BankMonthlyActivity)
            .join(BankCustomer, BankMonthlyActivity.customer_id == BankCustomer.id)
            .where(BankCustomer.ref.in_(wanted[start : start + chunk]))
            .order_by(BankCustomer.ref, BankMonthlyActivity.month)
        ).all()
        for ref, row in rows:
            out[ref].append(monthly(row))
    return dict(out)
