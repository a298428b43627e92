"""A lifecycle strategy's effect against its holdout group, on SQLite and PostgreSQL, over the
strategy-effect fixture (tests/strategy_effect_data.py): the figures equal those computed from the
fixture's rows; skipped touches, other strategies, touches outside the period and a customer's
later touches are left out; a version and the touches' counts; unknown strategies and bad dates
are refused with their codes."""

from __future__ import annotations

import pytest

from helixdesk.analytics.strategy_effect import Window, strategy_effect, touch_counts
from helixdesk.core.errors import ValidationFailedError
from helixdesk.db.session import reading
from helixdesk.lifecycle.config import ChurnRules
from helixdesk.lifecycle.errors import StrategyNotFoundError
from tests.strategy_effect_data import (
    ROWS,
    SINCE,
    STRATEGY,
    TZ,
    UNTIL,
    counted,
    expected,
    seed_strategy_effect,
)

OCTOBER = Window(SINCE, UNTIL)


@pytest.fixture
def fx_db(sessions):
    seed_strategy_effect(sessions)
    return sessions


def _effect(sessions, window: Window = OCTOBER, version: int | None = None, strategy: str = STRATEGY) -> dict:
    with reading(sessions) as s:
        return strategy_effect(s, strategy, window=window, tz=TZ, churn=ChurnRules(), version=version)


def _assert_equal(result: dict, rows: list) -> None:
    want = expected(rows)
    got = {o["key"]: o for o in result["outcomes"]}
    assert set(got) == set(want) == {"csat", "retention", "product_growth"}
    for key, figures in want.items():
        for name, value in figures.items():
            assert got[key][name] == pytest.approx(value, abs=1e-4), (key, name)


def test_the_arms_compared_equal_the_fixture_computed_by_hand(fx_db):
    result = _effect(fx_db)
    _assert_equal(result, counted())
    assert result["strategy"] == STRATEGY and result["kind"] == "retention_offer"
    assert result["current_version"] == 2 and result["holdout_share"] == 0.2
    assert result["period"] == {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    assert result["retention_observed_through"] == "2026-11"
    in_window = [r for r in ROWS if r.strategy == STRATEGY and SINCE <= r.day <= UNTIL]
    assert result["touches"] == {
        status: sum(1 for r in in_window if r.touch_status == status)
        for status in ("given", "held_out", "skipped")
    }
    assert result["customers"] == {
        arm: sum(1 for r in counted() if r.arm == arm) for arm in ("touched", "holdout")
    }
    # Each verdict follows from the interval: clear of zero, better (higher is better for all three).
    for o in result["outcomes"]:
        want = expected(counted())[o["key"]]
        clear = want["ci_low"] > 0 or want["ci_high"] < 0
        assert o["verdict"] == (
            ("better" if want["difference"] > 0 else "worse") if clear else "no_clear_effect"
        )


def test_one_version_and_the_whole_history(fx_db):
    _assert_equal(_effect(fx_db, version=1), counted(version=1))
    _assert_equal(_effect(fx_db, Window()), counted(window=False))
    assert _effect(fx_db, Window()).get("period") == {"since": None, "until": None}


def test_a_strategy_without_touches_has_no_data(fx_db):
    result = _effect(fx_db, strategy="first_steps_app")
    assert result["customers"] == {"touched": 0, "holdout": 0}
    assert {o["verdict"] for o in result["outcomes"]} == {"no_data"}
    assert result["retention_observed_through"] is None


def test_unknown_strategies_versions_and_bad_dates_are_refused(fx_db):
    with pytest.raises(StrategyNotFoundError) as e:
        _effect(fx_db, strategy="nope")
    assert e.value.code == "strategy_not_found"
    with pytest.raises(StrategyNotFoundError):
        _effect(fx_db, version=9)
    with pytest.raises(ValidationFailedError) as bad:
        Window.parse("2026-13-01", None)
    assert bad.value.code == "bad_date"
    with pytest.raises(ValidationFailedError) as order:
        Window.parse("2026-10-31", "2026-10-01")
    assert order.value.code == "invalid_period"


def test_touches_are_counted_by_strategy_arm_and_status(fx_db):
    with reading(fx_db) as s:
        got = touch_counts(s, window=OCTOBER, tz=TZ)
    want: dict[str, dict[str, int]] = {}
    for r in ROWS:
        if SINCE <= r.day <= UNTIL:
            key = f"{r.arm}:{r.touch_status}"
            want.setdefault(r.strategy, {})[key] = want.get(r.strategy, {}).get(key, 0) + 1
    assert got == want
