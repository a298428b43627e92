"""The suitability gate: each of its rules, and its limits read from the pack's file only."""

from __future__ import annotations

import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.lifecycle.suitability import (
    Subject,
    SuitabilityPolicy,
    cap,
    gate,
    load_suitability,
    parse_suitability,
)
from helixdesk.packs.loader import load_pack

POLICY = load_suitability(load_pack("retail_bank"))


def subject(**kw: object) -> Subject:
    base: dict[str, object] = {"risk_tolerance": "balanced", "age": 40}
    base.update(kw)
    return Subject(**base)  # type: ignore[arg-type]


def test_the_pack_sets_the_caps() -> None:
    assert POLICY.max_risk["conservative"] == "R2"
    assert POLICY.max_risk["aggressive"] == "R5"
    assert POLICY.elderly_age == 65
    assert POLICY.vulnerable_max == "R2"


@pytest.mark.parametrize(
    ("tolerance", "highest"),
    [("conservative", "R2"), ("moderate", "R3"), ("balanced", "R3"), ("growth", "R4"), ("aggressive", "R5")],
)
def test_never_above_the_customers_tolerance(tolerance: str, highest: str) -> None:
    levels = ["R1", "R2", "R3", "R4", "R5"]
    for level in levels:
        verdict = gate(subject(risk_tolerance=tolerance), level, POLICY)
        assert verdict.allowed == (levels.index(level) <= levels.index(highest)), level
        if not verdict.allowed:
            assert verdict.rule == "above_tolerance"


def test_an_unknown_tolerance_allows_only_r1() -> None:
    assert gate(subject(risk_tolerance=None), "R1", POLICY).allowed
    assert gate(subject(risk_tolerance="daring"), "R2", POLICY).rule == "above_tolerance"


def test_elderly_customers_get_nothing_above_the_cap_whatever_their_tolerance() -> None:
    old = subject(risk_tolerance="aggressive", age=65)
    assert gate(old, "R2", POLICY).allowed
    assert gate(old, "R3", POLICY).rule == "fragile_cap"
    assert gate(subject(risk_tolerance="aggressive", age=64), "R5", POLICY).allowed
    assert cap(old, POLICY) == 2


def test_vulnerable_customers_get_nothing_above_the_cap() -> None:
    fragile = subject(risk_tolerance="growth", age=30, vulnerable=True)
    assert gate(fragile, "R2", POLICY).allowed
    assert gate(fragile, "R4", POLICY).rule == "fragile_cap"


@pytest.mark.parametrize("flag", ["open_complaint", "fraud_report"])
def test_nothing_at_all_during_a_complaint_or_a_fraud_report(flag: str) -> None:
    s = subject(risk_tolerance="aggressive", **{flag: True})
    assert gate(s, None, POLICY).rule == "blocked"  # not even guidance or care
    assert gate(s, "R1", POLICY).rule == "blocked"


def test_a_touch_without_a_product_passes_and_an_unknown_level_never_does() -> None:
    assert gate(subject(), None, POLICY).allowed
    assert gate(subject(risk_tolerance="aggressive"), "R9", POLICY).rule == "unknown_risk"


def test_a_bad_suitability_file_is_refused_with_its_code() -> None:
    with pytest.raises(ConfigurationError) as e:
        parse_suitability({"max_risk": {"balanced": "R7"}})
    assert e.value.code == "invalid_suitability"
    assert "R7" in e.value.detail
    with pytest.raises(ConfigurationError) as e:
        parse_suitability({"elderly_age": 65, "loosen": True})
    assert e.value.code == "invalid_suitability"
    assert parse_suitability(None) == SuitabilityPolicy()
