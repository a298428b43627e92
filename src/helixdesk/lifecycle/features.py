"""The churn-risk model's features: the one list, and how each is computed from a history (pure).

Every feature reads the months before the cut-off (`CustomerHistory.as_of`) and the customer's
profile, nothing after. Trends are log ratios, log((recent + 1) / (before + 1)), so a fall and a
rise of the same factor weigh alike and an empty month is not a division by zero; "recent" is the
last 3 months, "before" the 3 before them. With fewer months the missing ones count as absent: a
trend over fewer than 6 months is 0 (no change known).

To add a feature (customer complaints, say, once they are available), add it to `FEATURES` with its
description and to `_compute`; models trained before then refuse to load (their feature list
differs) until retrained.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from helixdesk.lifecycle.customer import CustomerHistory, mean

TIERS = ("standard", "silver", "gold", "platinum", "vip")
RECENT = 3  # months in "recent" and in "before"
PEAK_MONTHS = 12

# name -> what it measures (docs/lifecycle.md lists the same). Kept few and distinct: features that
# move together (card spend and logins with transactions, products closed with the depth change)
# share their weight in unstable ways and make the per-customer reasons contradict each other.
FEATURES: dict[str, str] = {
    "tenure": "log(1 + months a customer)",
    "age_under_30": "1 when under 30",
    "age_60_plus": "1 when 60 or older",
    "tier": "value tier: 0 standard, 1 silver, 2 gold, 3 platinum, 4 vip",
    "balance_vs_peak": "the last month's balance as a share of the highest of the last 12 months",
    "activity_trend": "log ratio of transactions + logins, the last 3 months against the 3 before",
    "payroll_stopped": "1 when payroll arrived in the 4 months before the last 2 and not in the last 2",
    "product_change": "products held now minus 6 months before",
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)


def feature_vector(history: CustomerHistory) -> list[float]:
    """The features of `history` at its `as_of`, in `FEATURE_NAMES` order."""
    values = _compute(history)
    return [values[name] for name in FEATURE_NAMES]


def feature_values(history: CustomerHistory) -> dict[str, float]:
    """The features by name (for explanations)."""
    values = _compute(history)
    return {name: values[name] for name in FEATURE_NAMES}


def _compute(history: CustomerHistory) -> dict[str, float]:
    months = history.months
    age = history.age
    balances = [max(0.0, float(m.balance)) for m in months]  # an overdrawn month counts as empty
    peak = max(balances[-PEAK_MONTHS:], default=0.0)
    products_now = months[-1].products_held if months else 0
    products_then = months[max(0, len(months) - 7)].products_held if months else 0
    payroll_stopped = (
        len(months) >= 3 and any(m.payroll for m in months[-6:-2]) and not any(m.payroll for m in months[-2:])
    )
    return {
        "tenure": math.log1p(history.tenure_months),
        "age_under_30": float(age < 30),
        "age_60_plus": float(age >= 60),
        "tier": float(TIERS.index(history.value_tier)) if history.value_tier in TIERS else 0.0,
        "balance_vs_peak": balances[-1] / peak if peak > 0 else 1.0,
        "activity_trend": log_trend([float(m.activity) for m in months]),
        "payroll_stopped": float(payroll_stopped),
        "product_change": float(products_now - products_then),
    }


def log_trend(values: Sequence[float], window: int = RECENT) -> float:
    """log((mean of the last `window` + 1) / (mean of the `window` before + 1)); 0 with fewer values."""
    if len(values) < 2 * window:
        return 0.0
    return math.log((mean(values[-window:]) + 1) / (mean(values[-2 * window : -window]) + 1))
