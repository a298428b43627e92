"""Churn from the monthly history: each rule, its boundary, the order, and labels that never read the future."""

from __future__ import annotations

from helixdesk.lifecycle.churn import churn_event, churned_within
from helixdesk.lifecycle.config import ChurnRules
from tests.unit.lifecycle.builders import edit, steady

RULES = ChurnRules()  # the retail_bank pack's values (test_lifecycle_config checks they are the same)


def test_a_steady_customer_has_not_churned():
    assert churn_event(steady(24), RULES) is None


def test_a_drained_balance_is_churn_at_that_month():
    months = edit(steady(24), 15, balance=4_999)  # below 10% of the 50,000 average of the 6 months before
    event = churn_event(months, RULES)
    assert event is not None
    assert (event.index, event.month, event.reason) == (15, months[15].month, "balance_drained")


def test_a_balance_at_exactly_the_share_is_not_drained():
    assert churn_event(edit(steady(24), 15, balance=5_000), RULES) is None


def test_the_balance_rule_needs_its_window_of_months_before():
    months = edit(steady(24), 5, balance=10)  # only 5 months before it
    assert churn_event(months, RULES) is None
    event = churn_event(edit(steady(24), 6, balance=10), RULES)
    assert event is not None and event.index == 6


def test_a_near_empty_account_cannot_be_drained():
    months = edit(steady(24, balance=999), 12, balance=0)  # the average is below min_average_balance
    assert churn_event(months, RULES) is None
    event = churn_event(edit(steady(24, balance=1_000), 12, balance=0), RULES)
    assert event is not None and event.reason == "balance_drained"


def test_two_silent_months_in_a_row_are_churn_at_the_second():
    one = edit(steady(24), 10, transactions=0, logins=0)
    assert churn_event(one, RULES) is None
    apart = edit(one, 12, transactions=0, logins=0)
    assert churn_event(apart, RULES) is None
    two = edit(one, 11, transactions=0, logins=0)
    event = churn_event(two, RULES)
    assert event is not None and (event.index, event.reason) == (11, "inactive")


def test_a_login_alone_is_activity():
    months = edit(steady(24), slice(10, 14), transactions=0, logins=1)
    assert churn_event(months, RULES) is None


def test_every_product_closed_is_churn():
    months = edit(steady(24), slice(8, None), products_held=0)
    event = churn_event(months, RULES)
    assert event is not None and (event.index, event.reason) == (8, "products_closed")


def test_never_holding_a_product_is_not_closing_them():
    assert churn_event(steady(24, products=0), RULES) is None


def test_the_first_rule_in_order_names_the_reason():
    months = edit(steady(24), 15, balance=10, products_held=0)
    event = churn_event(months, RULES)
    assert event is not None and event.reason == "products_closed"


def test_the_churn_month_of_a_cut_history_is_that_of_the_whole():
    months = edit(edit(steady(24), 15, balance=10), slice(16, None), transactions=0, logins=0)
    whole = churn_event(months, RULES)
    assert whole is not None
    for cut in range(whole.index + 1, len(months) + 1):
        assert churn_event(months[:cut], RULES) == whole
    assert all(churn_event(months[:cut], RULES) is None for cut in range(whole.index + 1))


def test_labels_of_a_cut_off():
    months = edit(steady(24), 15, balance=10)  # churned at index 15
    assert churned_within(months, 13, 3, RULES) is True  # months 13, 14, 15 follow
    assert churned_within(months, 15, 3, RULES) is True
    assert churned_within(months, 12, 3, RULES) is False  # 12, 13, 14: not yet
    assert churned_within(months, 16, 3, RULES) is None  # churned already: no example
    assert churned_within(steady(24), 22, 3, RULES) is None  # only 2 months follow
    assert churned_within(steady(24), 21, 3, RULES) is False
