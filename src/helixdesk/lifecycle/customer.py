"""A customer's history as the lifecycle reads it: who they are and their months, oldest first.

`as_of` is the day the history is looked at: the first day of the month after its last month (the
months are complete ones), so tenure and every trend are measured at the same moment. The
helpers here (`trend`, `log_ratio`, ...) are pure and shared by the stage rules and the features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from helixdesk.bank.connector import BankConnector, MonthlyActivity
from helixdesk.bank.history import add_months, months_between
from helixdesk.core.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    ref: str
    birth_date: date
    customer_since: date
    value_tier: str
    months: tuple[MonthlyActivity, ...]  # one per calendar month, oldest first
    as_of: date

    @classmethod
    def of(
        cls,
        *,
        ref: str,
        birth_date: date,
        customer_since: date,
        value_tier: str,
        months: Sequence[MonthlyActivity],
        today: date | None = None,
    ) -> CustomerHistory:
        """The history sorted by month, looked at the day after its last month (or `today` when it
        has none)."""
        ordered = tuple(sorted(months, key=lambda m: m.month))
        if ordered:
            as_of = add_months(ordered[-1].month, 1)
        elif today is not None:
            as_of = today
        else:
            raise ValueError("a history without months needs `today`")
        return cls(ref, birth_date, customer_since, value_tier, ordered, as_of)

    def upto(self, n: int) -> CustomerHistory:
        """The history as it stood after its first `n` months (a training cut-off)."""
        months = self.months[:n]
        as_of = add_months(months[-1].month, 1) if months else self.customer_since
        return replace(self, months=months, as_of=as_of)

    @property
    def tenure_months(self) -> int:
        return max(0, months_between(self.customer_since, self.as_of))

    @property
    def age(self) -> int:
        years = self.as_of.year - self.birth_date.year
        return years - ((self.as_of.month, self.as_of.day) < (self.birth_date.month, self.birth_date.day))


def from_bank(bank: BankConnector, ref: str, *, today: date, months: int = 24) -> CustomerHistory:
    """The customer's history through the bank's connector; `customer_not_found` for an unknown ref."""
    customer = bank.get_customer(ref)
    if customer is None:
        raise NotFoundError(f"the bank has no customer {ref!r}", code="customer_not_found")
    return CustomerHistory.of(
        ref=customer.ref,
        birth_date=customer.birth_date,
        customer_since=customer.customer_since,
        value_tier=customer.value_tier,
        months=bank.monthly_activity(ref, months=months),
        today=today,
    )


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def trend(values: Sequence[float], window: int) -> float | None:
    """The relative change of the mean of the last `window` values against the `window` before
    (-0.5: down by half); None with fewer than 2 x `window` values or nothing before."""
    if len(values) < 2 * window:
        return None
    before = mean(values[-2 * window : -window])
    if before <= 0:
        return None
    return mean(values[-window:]) / before - 1.0


def drained(balances: Sequence[float], *, window: int, share: float, min_average: float) -> bool:
    """The last balance is below `share` of the average of the `window` balances before it (which
    is at least `min_average`)."""
    if len(balances) < window + 1:
        return False
    average = mean(balances[-window - 1 : -1])
    return average >= min_average and average > 0 and balances[-1] < share * average
