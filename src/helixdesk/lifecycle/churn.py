"""Churn, defined from the monthly history alone (pure functions; docs/lifecycle.md#churn).

A customer has churned at the first month m at which one of these holds (the pack's
`lifecycle/rules.yaml`, `churn:` section):

- `products_closed`: they hold no product at the end of m, after holding at least one before;
- `balance_drained`: m's balance is below `balance_share` (10%) of the average balance of the
  `balance_window_months` (6) months before m, an average of at least `min_average_balance`
  (1,000 CNY: a near-empty account cannot be drained);
- `inactive`: m is the `silent_months`-th (2nd) month in a row without a transaction or a login.

Each rule reads only m and the months before it, so the churn month of a history cut at any month
is the same as that of the whole history: a label is never learnt from the future. When two rules
hold at the same month, the first in the order above is the reason given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from helixdesk.bank.connector import MonthlyActivity
from helixdesk.lifecycle.config import ChurnRules
from helixdesk.lifecycle.customer import drained

ChurnReason = Literal["products_closed", "balance_drained", "inactive"]


@dataclass(frozen=True, slots=True)
class ChurnEvent:
    month: date
    index: int  # the position of `month` in the history
    reason: ChurnReason


def churn_event(months: Sequence[MonthlyActivity], rules: ChurnRules) -> ChurnEvent | None:
    """The month the customer churned (the first at which a rule holds), or None. `months` are one
    per calendar month, oldest first."""
    balances: list[float] = []
    held_before = False
    silent = 0
    min_average = float(rules.min_average_balance)
    for k, m in enumerate(months):
        balances.append(float(m.balance))
        silent = silent + 1 if m.activity == 0 else 0
        if held_before and m.products_held == 0:
            return ChurnEvent(m.month, k, "products_closed")
        if drained(
            balances, window=rules.balance_window_months, share=rules.balance_share, min_average=min_average
        ):
            return ChurnEvent(m.month, k, "balance_drained")
        if silent >= rules.silent_months:
            return ChurnEvent(m.month, k, "inactive")
        held_before = held_before or m.products_held > 0
    return None


def churned_within(
    months: Sequence[MonthlyActivity], cutoff: int, horizon: int, rules: ChurnRules
) -> bool | None:
    """The label of a cut-off after the first `cutoff` months: True when the customer churns in
    the `horizon` months that follow, False when they do not; None when the label cannot be known
    or means nothing: they had churned already, or fewer than `horizon` months follow."""
    if cutoff + horizon > len(months):
        return None
    event = churn_event(months[: cutoff + horizon], rules)
    if event is None:
        return False
    if event.index < cutoff:
        return None
    return True
