"""Monthly history of the demo bank's customers: up to 24 months of activity, deterministic from the seed.

A real bank exports this from its data warehouse (the `bank_monthly_activity` table, the
`monthly_activity` section of a bank file). The demo bank generates it, so that the customer
lifecycle and the churn-risk model (`helixdesk.lifecycle`) have months to learn from. Each customer
follows one trajectory, drawn from their own random stream (`history:SEED:REF`, so a customer's
history does not change with the number of customers generated), with these shares:

- `new`: joined within the last 12 months; balance and activity build up, products are added.
  Of the customers that new, `NEW_DRIFTING_SHARE` leave again (`drifting`).
- `steady`: flat, with month-to-month noise; `JOB_CHANGE_SHARE` of them change employer: their
  payroll stops, and they stay.
- `growing`: balance, activity and product depth rise over the window.
- `drifting`: activity and card spend decline over one to six months (a quarter leave at once),
  payroll stops, a product is closed and, for 60% of them, the balance runs down; then the balance
  is drained, every product but the basic account is closed and the customer goes (nearly) quiet.
  The drain can lie beyond the window's end: that customer is still declining today.
- `returning`: declines like a drifter for two to four months, then comes back.
- `bad_month`: steady, with one month of little activity and a dip in the balance (a large purchase).

The window ends with the last complete month before `as_of` and starts no earlier than the month
the customer joined. Money is in CNY. The last month's balance is the customer's deposits today
(`Profile.balance`); for a customer whose balance was drained inside the window, the drain is what
is left today (`build_demo_bank` then writes that small balance into their savings account).
`products_held` counts the accounts and cards the bank's tables list plus the wealth products
(funds, insurance, time deposits) the demo tables leave out.

`demo_population` draws customers like `build_demo_bank` does (ages, tiers, tenure, cards), but
without accounts, cards or transactions, so a training population of thousands takes a second.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from helixdesk.bank.connector import MonthlyActivity

HISTORY_MONTHS = 24
NEW_CUSTOMER_MONTHS = 12
TRAJECTORIES = ("new", "steady", "growing", "drifting", "returning", "bad_month")
# Shares of the customers who joined at least NEW_CUSTOMER_MONTHS before `as_of`.
TRAJECTORY_SHARES: dict[str, float] = {
    "steady": 0.46,
    "growing": 0.18,
    "drifting": 0.22,
    "returning": 0.06,
    "bad_month": 0.08,
}
NEW_DRIFTING_SHARE = 0.15
JOB_CHANGE_SHARE = 0.08
PAYROLL_SHARE = 0.8  # of customers under 60; older customers receive no payroll
CROSS_BORDER_SHARE = 0.15  # of the population `demo_population` draws

_CENT = Decimal("0.01")
# Typical card spend per transaction (CNY) and wealth products beyond accounts and cards, by tier.
_SPEND_PER_TXN = {"standard": 120.0, "silver": 200.0, "gold": 350.0, "platinum": 600.0, "vip": 1000.0}
_WEALTH_PRODUCTS = {"standard": (0, 1), "silver": (0, 1), "gold": (1, 2), "platinum": (1, 3), "vip": (2, 3)}
_WEALTH = {"standard": 20_000, "silver": 80_000, "gold": 300_000, "platinum": 1_200_000, "vip": 6_000_000}
_TIERS = ("standard", "silver", "gold", "platinum", "vip")
_TIER_WEIGHTS = (50, 22, 15, 8, 5)


@dataclass(frozen=True, slots=True)
class Profile:
    """What a customer's history is drawn from."""

    ref: str
    birth_date: date
    customer_since: date
    value_tier: str
    balance: Decimal  # deposits held today (before a drain inside the window)
    products: int  # accounts and cards held today
    cross_border: bool


@dataclass(frozen=True, slots=True)
class History:
    trajectory: str
    months: tuple[MonthlyActivity, ...]
    drained: bool  # the balance was drained inside the window: the last month's balance is what is left


@dataclass(frozen=True, slots=True)
class SimulatedCustomer:
    profile: Profile
    history: History


def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after `month`'s (n may be negative)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (0 when `end` is within a month of `start`)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (end.day < start.day)


def history_window(customer_since: date, as_of: date, months: int = HISTORY_MONTHS) -> list[date]:
    """The first days of the months of the window: at most `months`, up to the last complete month
    before `as_of`, none before the month the customer joined."""
    last = add_months(as_of.replace(day=1), -1)
    first = max(add_months(last, -(months - 1)), customer_since.replace(day=1))
    return [add_months(first, k) for k in range(months_between(first, last) + 1)] if first <= last else []


def simulate(profile: Profile, *, seed: int, as_of: date) -> History:
    """The customer's monthly history up to `as_of`, the same for the same seed, profile and date."""
    rng = random.Random(f"history:{seed}:{profile.ref}")
    window = history_window(profile.customer_since, as_of)
    tenure = months_between(profile.customer_since, as_of)
    if tenure < NEW_CUSTOMER_MONTHS:
        trajectory = "drifting" if rng.random() < NEW_DRIFTING_SHARE else "new"
    else:
        trajectory = rng.choices(list(TRAJECTORY_SHARES), weights=list(TRAJECTORY_SHARES.values()))[0]
    n = len(window)
    if n == 0:
        return History(trajectory, (), drained=False)
    age = as_of.year - profile.birth_date.year
    paid = age < 60 and rng.random() < PAYROLL_SHARE
    lo, hi = _WEALTH_PRODUCTS.get(profile.value_tier, (0, 1))
    shape = _Shape(n, paid=paid, products=max(1, profile.products + rng.randint(lo, hi)))
    drained = _TRAJECTORY[trajectory](shape, rng)
    return History(trajectory, _months(profile, window, shape, rng, drained=drained), drained=drained)


class _Shape:
    """Per-month levels of a trajectory (1.0: the customer's usual), before noise."""

    def __init__(self, n: int, *, paid: bool, products: int) -> None:
        self.n = n
        self.balance = [1.0] * n
        self.activity = [1.0] * n
        self.payroll = [paid] * n
        self.products = [products] * n
        self.dormant = [False] * n  # after a drain: nearly no activity at all

    def stop_payroll(self, start: int, end: int | None = None) -> None:
        for k in range(max(start, 0), self.n if end is None else min(end, self.n)):
            self.payroll[k] = False

    def set_products(self, start: int, value: int) -> None:
        for k in range(max(start, 0), self.n):
            self.products[k] = value


def _steady(s: _Shape, rng: random.Random) -> bool:
    if s.payroll[0] and rng.random() < JOB_CHANGE_SHARE:
        s.stop_payroll(rng.randint(1, max(1, s.n - 1)))
    return False


def _growing(s: _Shape, rng: random.Random) -> bool:
    g = rng.uniform(0.25, 0.8)
    span = max(s.n - 1, 1)
    for k in range(s.n):
        s.balance[k] = math.exp(g * (k - span) / span)
        s.activity[k] = math.exp(0.5 * g * (k - span) / span)
    final = s.products[-1]
    start = max(1, final - rng.randint(1, 2))
    _add_products(s, rng, start, final, first=1)
    return False


def _new(s: _Shape, rng: random.Random) -> bool:
    ramp = rng.randint(3, 8)
    for k in range(s.n):
        s.balance[k] = min(1.0, 0.2 + 0.8 * (k + 1) / ramp)
        s.activity[k] = min(1.0, 0.4 + 0.6 * (k + 1) / ramp)
    if s.payroll[0]:
        s.stop_payroll(0, rng.randint(0, 2))  # payroll moves over a month or two after joining
    final = s.products[-1]
    _add_products(s, rng, min(final, 2), final, first=1)
    return False


def _drifting(s: _Shape, rng: random.Random) -> bool:
    length = 1 if rng.random() < 0.25 else rng.randint(2, 6)
    drain = rng.randint(min(2, s.n), s.n + 2)  # beyond n - 1: still declining at the window's end
    start = max(0, drain - length)
    # How far activity falls before the drain, and whether the balance runs down first or is moved
    # out at once (then only activity, payroll and products warn).
    fall = rng.uniform(0.5, 0.9)
    run_down = rng.uniform(0.3, 0.7) if rng.random() < 0.6 else rng.uniform(0.0, 0.1)
    for k in range(start, min(drain, s.n)):
        p = (k - start + 1) / (drain - start + 1)
        s.activity[k] = max(0.05, 1.0 - fall * p)
        s.balance[k] = 1.0 - run_down * p
    if s.payroll[0] and rng.random() < 0.85:
        s.stop_payroll(start + rng.randint(0, max(0, drain - start - 1)))
    else:
        s.stop_payroll(drain)
    if s.products[0] > 1 and rng.random() < 0.6:
        s.set_products(start + (drain - start) // 2, s.products[0] - 1)
    left = rng.uniform(0.005, 0.04)
    for k in range(drain, s.n):
        s.balance[k] = left
        s.activity[k] = 0.0
        s.dormant[k] = True
    s.set_products(drain, 1)
    return drain <= s.n - 1


def _returning(s: _Shape, rng: random.Random) -> bool:
    start = rng.randint(1, max(1, s.n - 6))
    dip, back = rng.randint(2, 4), rng.randint(2, 3)
    bottom_activity, bottom_balance = rng.uniform(0.3, 0.5), rng.uniform(0.5, 0.7)
    for k in range(start, s.n):
        if k < start + dip:
            p = (k - start + 1) / dip
            s.activity[k] = 1.0 - (1.0 - bottom_activity) * p
            s.balance[k] = 1.0 - (1.0 - bottom_balance) * p
        else:
            p = min(1.0, (k - start - dip + 1) / back)
            s.activity[k] = bottom_activity + (0.95 - bottom_activity) * p
            s.balance[k] = bottom_balance + (0.95 - bottom_balance) * p
    if s.payroll[0] and rng.random() < 0.5:
        s.stop_payroll(start + 1, start + dip + 1)
    if s.products[0] > 1 and rng.random() < 0.4:
        s.set_products(start + dip - 1, s.products[0] - 1)
        if rng.random() < 0.5:
            s.set_products(start + dip + back, s.products[0])
    return False


def _bad_month(s: _Shape, rng: random.Random) -> bool:
    k = rng.randrange(s.n)
    s.activity[k] *= rng.uniform(0.05, 0.3)
    s.balance[k] *= rng.uniform(0.3, 0.6)
    return _steady(s, rng)


_TRAJECTORY = {
    "new": _new,
    "steady": _steady,
    "growing": _growing,
    "drifting": _drifting,
    "returning": _returning,
    "bad_month": _bad_month,
}


def _add_products(s: _Shape, rng: random.Random, start: int, final: int, *, first: int) -> None:
    """Product depth rises from `start` to `final`, one product at a time in random months."""
    s.set_products(0, start)
    slots = list(range(first, s.n))
    for k in sorted(rng.sample(slots, min(len(slots), final - start))):
        s.set_products(k, s.products[k] + 1)
    if s.products[-1] < final:
        s.set_products(s.n - 1, final)


def _months(
    profile: Profile, window: Sequence[date], s: _Shape, rng: random.Random, *, drained: bool
) -> tuple[MonthlyActivity, ...]:
    age = window[-1].year - profile.birth_date.year
    txn_base = min(120.0, max(4.0, rng.lognormvariate(math.log(25), 0.5)))
    login_base = min(
        60.0, max(0.5, rng.lognormvariate(math.log(12 if age < 45 else 6 if age < 60 else 3), 0.6))
    )
    spend = _SPEND_PER_TXN.get(profile.value_tier, 150.0) * rng.lognormvariate(0, 0.3)
    remit = rng.uniform(0.3, 1.5) if profile.cross_border else 0.0
    raw = [level * rng.lognormvariate(0, 0.06) for level in s.balance]
    scale = float(profile.balance) if drained else float(profile.balance) / raw[-1]
    joined = profile.customer_since.replace(day=1)
    out: list[MonthlyActivity] = []
    for k, month in enumerate(window):
        if s.dormant[k]:
            transactions = 0 if rng.random() < 0.65 else rng.randint(1, 3)
            logins = 0 if rng.random() < 0.6 else rng.randint(1, 3)
        else:
            transactions = round(txn_base * s.activity[k] * rng.lognormvariate(0, 0.2))
            logins = round(login_base * s.activity[k] * rng.lognormvariate(0, 0.3))
        rate = remit * s.activity[k]
        remittances = int(rng.random() < min(1.0, rate)) + int(rng.random() < max(0.0, rate - 1.0))
        before = s.products[k - 1] if k else (0 if month == joined else s.products[0])
        held = s.products[k]
        out.append(
            MonthlyActivity(
                month=month,
                balance=_cents(scale * raw[k]),
                transactions=transactions,
                card_spend=_cents(transactions * spend * rng.uniform(0.4, 0.8)),
                payroll=s.payroll[k],
                remittances=remittances,
                products_held=held,
                products_opened=max(0, held - before),
                products_closed=max(0, before - held),
                logins=logins,
            )
        )
    return tuple(out)


def _cents(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(_CENT)


def demo_population(customers: int, *, seed: int = 7, as_of: date) -> list[SimulatedCustomer]:
    """`customers` customers like the demo bank's, each with their history (for training and the bench)."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    rng = random.Random(f"population:{seed}")
    out: list[SimulatedCustomer] = []
    for i in range(1, customers + 1):
        age = rng.choice([rng.randint(22, 35), rng.randint(36, 59), rng.randint(60, 82)])
        tier = rng.choices(_TIERS, weights=_TIER_WEIGHTS)[0]
        profile = Profile(
            ref=f"C{i:06d}",
            birth_date=date(as_of.year - age, rng.randint(1, 12), rng.randint(1, 28)),
            customer_since=as_of - timedelta(days=rng.randint(30, 6000)),
            value_tier=tier,
            balance=_cents(rng.uniform(0.05, 1.0) * _WEALTH[tier]),
            products=2 + (2 if rng.random() < 0.75 else 0),  # savings + debit card, credit account + card
            cross_border=rng.random() < CROSS_BORDER_SHARE,
        )
        out.append(SimulatedCustomer(profile, simulate(profile, seed=seed, as_of=as_of)))
    return out


def attach_history(records: list[dict[str, Any]], *, seed: int, as_of: date) -> None:
    """Give each generated customer record (bank/seed.py) its `monthly_activity`, and make today's
    accounts agree with it: a drained customer's savings hold what is left, and a customer whose
    payroll has stopped has no payroll credits among their recent transactions."""
    for record in records:
        savings = next(a for a in record["accounts"] if a["kind"] == "savings")
        profile = Profile(
            ref=record["ref"],
            birth_date=date.fromisoformat(record["birth_date"]),
            customer_since=date.fromisoformat(record["customer_since"]),
            value_tier=record["value_tier"],
            balance=Decimal(savings["balance"]),
            products=sum(1 + len(a["cards"]) for a in record["accounts"]),
            cross_border="cross_border" in record["interests"],
        )
        history = simulate(profile, seed=seed, as_of=as_of)
        record["monthly_activity"] = [_month_record(m) for m in history.months]
        if history.drained:
            savings["balance"] = savings["available"] = str(history.months[-1].balance)
        if history.months and not history.months[-1].payroll:
            savings["transactions"] = [t for t in savings["transactions"] if t["category"] != "income"]


def _month_record(m: MonthlyActivity) -> dict[str, Any]:
    return {
        "month": m.month.isoformat(),
        "balance": str(m.balance),
        "transactions": m.transactions,
        "card_spend": str(m.card_spend),
        "payroll": m.payroll,
        "remittances": m.remittances,
        "products_held": m.products_held,
        "products_opened": m.products_opened,
        "products_closed": m.products_closed,
        "logins": m.logins,
    }
