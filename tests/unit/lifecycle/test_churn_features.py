"""The churn model's features: one documented list, computed from the months before the cut-off only."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from helixdesk.lifecycle.features import FEATURE_NAMES, FEATURES, feature_values, feature_vector
from tests.unit.lifecycle.builders import customer, edit, steady

DOCS = Path(__file__).resolve().parents[3] / "docs" / "lifecycle.md"


def test_every_feature_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    assert tuple(FEATURES) == FEATURE_NAMES
    for name in FEATURE_NAMES:
        assert f"`{name}`" in text, f"feature {name} is missing from docs/lifecycle.md"


def test_a_steady_customer_shows_no_change():
    values = feature_values(customer(steady(24), tenure=40, birth=date(1990, 1, 1), tier="silver"))
    assert values == {
        "tenure": pytest.approx(math.log1p(40)),
        "age_under_30": 0.0,
        "age_60_plus": 0.0,
        "tier": 1.0,
        "balance_vs_peak": 1.0,
        "activity_trend": 0.0,
        "payroll_stopped": 0.0,
        "product_change": 0.0,
    }


def test_a_drifter_shows_every_warning_sign():
    months = edit(steady(24), slice(-3, None), transactions=5, logins=2, payroll=False, balance=10_000)
    months = edit(months, slice(-6, None), products_held=2)
    values = feature_values(customer(months, tenure=40))
    assert values["activity_trend"] == pytest.approx(math.log(8 / 31))  # (7 + 1) / (30 + 1)
    assert values["balance_vs_peak"] == pytest.approx(0.2)
    assert values["payroll_stopped"] == 1.0
    assert values["product_change"] == -1.0


def test_payroll_stopped_needs_payroll_before_and_none_in_the_last_two_months():
    one_missing = edit(steady(24), -1, payroll=False)
    assert feature_values(customer(one_missing))["payroll_stopped"] == 0.0
    two_missing = edit(steady(24), slice(-2, None), payroll=False)
    assert feature_values(customer(two_missing))["payroll_stopped"] == 1.0
    never = steady(24, payroll=False)
    assert feature_values(customer(never))["payroll_stopped"] == 0.0


@pytest.mark.parametrize(
    ("birth", "under_30", "over_60"), [(date(1997, 1, 1), 1.0, 0.0), (date(1966, 11, 1), 0.0, 1.0)]
)
def test_age_bands(birth, under_30, over_60):
    values = feature_values(customer(steady(12), birth=birth))
    assert (values["age_under_30"], values["age_60_plus"]) == (under_30, over_60)


def test_a_short_history_has_no_trend_and_an_empty_one_has_defaults():
    values = feature_values(customer(edit(steady(5), -1, transactions=0, logins=0)))
    assert values["activity_trend"] == 0.0
    from helixdesk.lifecycle.customer import CustomerHistory

    empty = CustomerHistory.of(
        ref="E",
        birth_date=date(1980, 1, 1),
        customer_since=date(2026, 11, 2),
        value_tier="vip",
        months=[],
        today=date(2026, 11, 20),
    )
    assert feature_vector(empty) == [0.0, 0.0, 0.0, 4.0, 1.0, 0.0, 0.0, 0.0]


def test_features_at_a_cut_off_do_not_read_later_months():
    months = steady(24)
    later_drain = edit(
        months, slice(15, None), balance=10, transactions=0, logins=0, payroll=False, products_held=0
    )
    assert feature_vector(customer(months).upto(15)) == feature_vector(customer(later_drain).upto(15))
    assert feature_vector(customer(months).upto(16)) != feature_vector(customer(later_drain).upto(16))
    assert customer(months).upto(15).as_of == months[15].month  # the first day after the 15th month
