"""The strategy effect's statistics on hand-made arms: the two means, their difference and its 95%
interval computed here from the values, and each verdict; the touches' period in the bank's days."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from helixdesk.analytics.strategy_effect import Window, compare_arms
from helixdesk.core.errors import ValidationFailedError


def _by_hand(touched: list[float], holdout: list[float]) -> tuple[float, float, float]:
    diff = statistics.mean(touched) - statistics.mean(holdout)
    half = 1.959964 * math.sqrt(
        statistics.variance(touched) / len(touched) + statistics.variance(holdout) / len(holdout)
    )
    return diff, diff - half, diff + half


@pytest.mark.parametrize(
    ("touched", "holdout", "better", "verdict"),
    [
        ([5, 5, 4, 5, 4, 5], [2, 3, 2, 3, 2], "higher", "better"),
        ([1, 2, 1, 2, 1], [4, 5, 4, 5, 5], "higher", "worse"),
        ([4, 2, 5, 3], [3, 5, 2, 4], "higher", "no_clear_effect"),
        ([0, 0, 1, 0, 0, 0], [1, 1, 1, 0, 1, 1], "lower", "better"),
    ],
)
def test_two_arms_give_the_difference_and_interval_computed_by_hand(touched, holdout, better, verdict):
    got = compare_arms("csat", better, {"touched": touched, "holdout": holdout})
    diff, low, high = _by_hand(touched, holdout)
    assert got["touched"] == len(touched) and got["holdout"] == len(holdout)
    assert got["touched_mean"] == pytest.approx(statistics.mean(touched), abs=1e-4)
    assert got["holdout_mean"] == pytest.approx(statistics.mean(holdout), abs=1e-4)
    assert got["difference"] == pytest.approx(diff, abs=1e-4)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((low, high), abs=1e-4)
    assert got["verdict"] == verdict


def test_too_few_and_no_data():
    one = compare_arms("retention", "higher", {"touched": [1.0], "holdout": [0.0, 1.0, 1.0]})
    assert one["verdict"] == "too_few" and one["touched"] == 1
    empty = compare_arms("retention", "higher", {"touched": [1.0, 0.0], "holdout": []})
    assert empty["verdict"] == "no_data" and empty["difference"] is None
    # The arm that has values still shows them.
    assert empty["touched"] == 2 and empty["touched_mean"] == 0.5 and empty["holdout_mean"] is None


def test_the_period_is_days_in_the_banks_time_zone():
    window = Window.parse("2026-10-01", "2026-10-31")
    first, after = window.bounds(ZoneInfo("Asia/Shanghai"))
    assert first == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert after == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert Window.parse(None, "2026-10-31") == Window(None, date(2026, 10, 31))
    assert Window.parse("", "").bounds(UTC) == (None, None)
    for since, until, code in (
        ("yesterday", None, "bad_date"),
        ("2026-11-02", "2026-11-01", "invalid_period"),
    ):
        with pytest.raises(ValidationFailedError) as e:
            Window.parse(since, until)
        assert e.value.code == code
