"""Hand-made customers for the lifecycle tests: a steady history, then edits month by month."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from helixdesk.bank.connector import MonthlyActivity
from helixdesk.bank.history import add_months
from helixdesk.lifecycle.customer import CustomerHistory

LAST = date(2026, 10, 1)  # the last month of every history here: as_of is 2026-11-01


def steady(
    n: int,
    *,
    balance: int = 50_000,
    transactions: int = 20,
    logins: int = 10,
    products: int = 3,
    payroll: bool = True,
) -> list[MonthlyActivity]:
    """`n` identical months ending with LAST."""
    first = add_months(LAST, -(n - 1))
    return [
        MonthlyActivity(
            month=add_months(first, k),
            balance=Decimal(balance),
            transactions=transactions,
            card_spend=Decimal(transactions * 100),
            payroll=payroll,
            remittances=0,
            products_held=products,
            products_opened=0,
            products_closed=0,
            logins=logins,
        )
        for k in range(n)
    ]


def edit(months: list[MonthlyActivity], index: int | slice, **changes: Any) -> list[MonthlyActivity]:
    """The months with `changes` made to the month(s) at `index` (negative counts from the end)."""
    out = list(months)
    positions = range(len(out))[index] if isinstance(index, slice) else [range(len(out))[index]]
    for k in positions:
        values = {key: Decimal(v) if key in ("balance", "card_spend") else v for key, v in changes.items()}
        out[k] = replace(out[k], **values)
    return out


def customer(
    months: list[MonthlyActivity],
    *,
    tenure: int | None = None,
    birth: date = date(1980, 6, 15),
    tier: str = "gold",
) -> CustomerHistory:
    """A customer with these months who joined `tenure` months before as_of (default: with the first month)."""
    as_of = add_months(LAST, 1)
    since = add_months(as_of, -tenure) if tenure is not None else months[0].month
    return CustomerHistory.of(
        ref="T1", birth_date=birth, customer_since=since, value_tier=tier, months=months, today=as_of
    )
