"""Lifecycle stages on hand-made customers: every stage, every rule and each threshold's boundary."""

from __future__ import annotations

import pytest

from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.stages import Stage, lifecycle_stage
from helixdesk.packs.loader import load_pack
from tests.unit.lifecycle.builders import customer, edit, steady

CONFIG = load_lifecycle_config(load_pack("retail_bank"))


def stage(history):
    result = lifecycle_stage(history, CONFIG)
    return result.stage, result.rule


# --- exploration and formation by tenure ---------------------------------------------------------


@pytest.mark.parametrize(
    ("tenure", "expected"),
    [
        (0, (Stage.EXPLORATION, "short_tenure")),
        (5, (Stage.EXPLORATION, "short_tenure")),
        (6, (Stage.FORMATION, "building_tenure")),  # exploration_months: below 6
        (23, (Stage.FORMATION, "building_tenure")),
        (24, (Stage.STABILITY, "established")),  # formation_months: below 24
        (120, (Stage.STABILITY, "established")),
    ],
)
def test_tenure_decides_between_exploration_formation_and_stability(tenure, expected):
    months = steady(min(max(tenure, 1), 24))
    assert stage(customer(months, tenure=tenure)) == expected


def test_a_customer_without_months_is_staged_by_tenure():
    from datetime import date

    from helixdesk.lifecycle.customer import CustomerHistory

    history = CustomerHistory.of(
        ref="T0",
        birth_date=date(1990, 1, 1),
        customer_since=date(2026, 11, 10),
        value_tier="standard",
        months=[],
        today=date(2026, 11, 23),
    )
    assert stage(history) == (Stage.EXPLORATION, "short_tenure")


def test_growing_product_depth_keeps_a_long_standing_customer_in_formation():
    added_5_months_ago = edit(steady(24), slice(-6, None), products_held=4)  # month -7 still had 3
    assert stage(customer(added_5_months_ago, tenure=60)) == (Stage.FORMATION, "depth_growing")
    added_6_months_ago = edit(steady(24), slice(-7, None), products_held=4)  # the month compared with
    assert stage(customer(added_6_months_ago, tenure=60)) == (Stage.STABILITY, "established")
    fewer = edit(steady(24), slice(-3, None), products_held=2)
    assert stage(customer(fewer, tenure=60)) == (Stage.STABILITY, "established")


def test_with_a_short_history_depth_is_compared_with_the_first_month():
    months = edit(steady(4), slice(-1, None), products_held=4)
    assert stage(customer(months, tenure=30)) == (Stage.FORMATION, "depth_growing")


# --- decline ------------------------------------------------------------------------------------


def test_an_activity_drop_of_more_than_the_threshold_is_decline_whatever_the_tenure():
    # activity is 30 a month (20 transactions + 10 logins); the last 3 months fall to 18 (-40%) or 17
    at_threshold = edit(steady(24), slice(-3, None), transactions=8, logins=10)
    assert stage(customer(at_threshold, tenure=60)) == (Stage.STABILITY, "established")
    beyond = edit(steady(24), slice(-3, None), transactions=7, logins=10)
    assert stage(customer(beyond, tenure=60)) == (Stage.DECLINE, "activity_drop")
    assert stage(customer(edit(steady(8), slice(-3, None), transactions=7), tenure=8)) == (
        Stage.DECLINE,
        "activity_drop",
    )


def test_the_activity_trend_needs_two_windows_of_months():
    five = edit(steady(5), slice(-3, None), transactions=0, logins=1)
    assert stage(customer(five, tenure=30)) == (Stage.STABILITY, "established")
    six = edit(steady(6), slice(-3, None), transactions=0, logins=1)
    assert stage(customer(six, tenure=30)) == (Stage.DECLINE, "activity_drop")


def test_a_balance_drop_of_more_than_the_threshold_is_decline():
    at_threshold = edit(steady(24), slice(-3, None), balance=25_000)  # -50%
    assert stage(customer(at_threshold, tenure=60)) == (Stage.STABILITY, "established")
    beyond = edit(steady(24), slice(-3, None), balance=24_999)
    assert stage(customer(beyond, tenure=60)) == (Stage.DECLINE, "balance_drop")
    new = edit(steady(7), slice(-3, None), balance=20_000)
    assert stage(customer(new, tenure=7)) == (Stage.DECLINE, "balance_drop")


def test_a_churned_customer_who_has_not_come_back_is_in_decline():
    drained = edit(
        edit(steady(24), 10, balance=1_000), slice(11, None), balance=1_000, transactions=1, logins=1
    )
    result = lifecycle_stage(customer(drained, tenure=60), CONFIG)
    assert (result.stage, result.rule) == (Stage.DECLINE, "churned")
    assert result.figures["churned_in"] == drained[10].month.isoformat()
    assert "balance drained" in result.explanation
    closed = edit(steady(4), slice(2, None), products_held=0)  # even in the first months
    assert stage(customer(closed, tenure=4)) == (Stage.DECLINE, "churned")


def test_coming_back_after_churning_needs_enough_months_and_activity():
    # drained at month 10; from month 11 the balance is back and activity is 15 (50% of 30) or 14
    back = edit(edit(steady(24), 10, balance=1_000), slice(11, None), transactions=5, logins=10)
    assert stage(customer(back, tenure=60)) == (Stage.STABILITY, "established")
    short = edit(edit(steady(24), 10, balance=1_000), slice(11, None), transactions=4, logins=10)
    assert stage(customer(short, tenure=60)) == (Stage.DECLINE, "churned")
    # drained two months before the end: two months after it are too few to have come back
    recent = edit(steady(24), -3, balance=1_000)
    assert stage(customer(recent, tenure=60)) == (Stage.DECLINE, "churned")
    three = edit(steady(24), -4, balance=1_000)
    assert stage(customer(three, tenure=60)) == (Stage.STABILITY, "established")


def test_decline_comes_before_exploration():
    months = edit(steady(3), -1, products_held=0)
    assert stage(customer(months, tenure=3)) == (Stage.DECLINE, "churned")


def test_the_result_says_why_in_json():
    result = lifecycle_stage(customer(steady(24), tenure=30), CONFIG).to_dict()
    assert result["stage"] == "stability" and result["name"]["zh-Hans"] == "稳定期"
    assert result["rule"] == "established" and "30 months" in result["explanation"]
    assert result["figures"]["tenure_months"] == 30 and result["figures"]["activity_trend"] == 0.0


def test_every_stage_has_its_names():
    from helixdesk.lifecycle.stages import STAGE_NAMES

    assert {STAGE_NAMES[s]["zh-Hans"] for s in Stage} == {"考察期", "形成期", "稳定期", "退化期"}
    assert all(set(names) == {"zh-Hans", "zh-Hant", "en"} for names in STAGE_NAMES.values())
