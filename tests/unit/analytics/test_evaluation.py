"""The effect of a change: stratified by intent and language, weighted by the touched, with a 95%
interval; a change is parsed with a stable code."""

from __future__ import annotations

import math
from datetime import date

import pytest

from helixdesk.analytics.evaluation import Change, Retention, compare, verdict
from helixdesk.core.errors import ValidationFailedError
from helixdesk.lifecycle.config import ChurnRules
from tests.unit.lifecycle.builders import edit, steady


def test_one_stratum_gives_the_difference_of_means_and_the_welch_interval():
    result = compare({("a", "en"): ([1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0])})
    assert result["difference"] == pytest.approx(0.5)
    half = 1.959964 * math.sqrt(0.25 / 4 + 0.25 / 4)
    assert result["ci_low"] == pytest.approx(0.5 - half, abs=1e-4)
    assert result["ci_high"] == pytest.approx(0.5 + half, abs=1e-4)
    assert result["touched"] == 4 and result["comparable"] == 4


def test_strata_keep_a_mix_of_intents_from_faking_an_effect():
    # The change touched mostly the easy intent (always resolved); within each intent it changes
    # nothing. Pooled, the touched look 0.6 better; stratified, the effect is zero.
    strata = {
        ("easy", "en"): ([1.0] * 9, [1.0] * 2),
        ("hard", "en"): ([0.0] * 1, [0.0] * 8),
    }
    result = compare(strata)
    assert result["difference"] == pytest.approx(0.0)
    assert result["touched_mean"] == pytest.approx(0.9) and result["comparable_mean"] == pytest.approx(0.9)


def test_touched_strata_without_a_comparison_are_left_out_and_counted():
    result = compare({("a", "en"): ([1.0, 2.0], []), ("b", "en"): ([4.0, 5.0], [3.0, 3.0])})
    assert result["left_out"] == 2 and result["touched"] == 2 and result["difference"] == pytest.approx(1.5)
    empty = compare({("a", "en"): ([1.0], [])})
    assert empty["difference"] is None and empty["left_out"] == 1


@pytest.mark.parametrize(
    "text", ["", "knowledge", "knowledge:", "weather:sunny", "after:tomorrow", "queue:" + "x" * 200]
)
def test_a_bad_change_gets_a_stable_code(text):
    with pytest.raises(ValidationFailedError) as e:
        Change.parse(text)
    assert e.value.code == "invalid_change"


def test_retention_reads_the_churn_rules_from_the_conversations_month_on():
    stayed = steady(12)  # Nov 2025 .. Oct 2026, no churn
    left = edit(steady(12), slice(9, 12), transactions=0, logins=0)  # silent from August on
    retention = Retention(months={"C1": stayed, "C2": left}, rules=ChurnRules())
    assert retention.of("C1", date(2026, 10, 20)) == 1.0
    assert retention.of("C2", date(2026, 8, 14)) == 0.0  # churned in September, after it
    assert retention.of("C2", date(2026, 9, 30)) == 0.0  # churned that month
    assert retention.of("C2", date(2026, 10, 2)) is None  # had churned already
    assert retention.of("C1", date(2026, 11, 3)) is None  # the history stops in October
    assert retention.of("C9", date(2026, 10, 2)) is None  # no history
    assert retention.observed_through == "2026-10"
    assert Retention(months={}, rules=ChurnRules()).observed_through is None


def _result(difference, low, high, touched=10, comparable=10):
    return {
        "difference": difference,
        "ci_low": low,
        "ci_high": high,
        "touched": touched,
        "comparable": comparable,
    }


@pytest.mark.parametrize(
    ("result", "better", "expected"),
    [
        (_result(0.5, 0.1, 0.9), "higher", "better"),
        (_result(0.5, 0.1, 0.9), "lower", "worse"),  # more repeat contact
        (_result(-0.5, -0.9, -0.1), "lower", "better"),
        (_result(-0.5, -0.9, -0.1), "higher", "worse"),
        (_result(0.5, -0.1, 1.1), "higher", "no_clear_effect"),
        (_result(-0.5, -1.1, 0.0), "lower", "no_clear_effect"),  # touching zero is crossing it
        (_result(1.0, 1.0, 1.0, touched=1), "higher", "too_few"),  # one value: no variance, no interval
        (_result(1.0, 1.0, 1.0, comparable=1), "higher", "too_few"),
        (_result(None, None, None, touched=0, comparable=0), "higher", "no_data"),
    ],
)
def test_the_verdict_respects_the_better_direction_and_the_interval(result, better, expected):
    assert verdict(result, better) == expected
