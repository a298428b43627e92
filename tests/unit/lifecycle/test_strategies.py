"""The pack's strategies: validation with its code, each condition, and recommendations with why."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
import yaml

from helixdesk.core.errors import ConfigurationError
from helixdesk.lifecycle.recommend import Snapshot, bot_touch, matches, recommend
from helixdesk.lifecycle.strategies import STRATEGIES_FILE, load_strategies, parse_strategies, parse_strategy
from helixdesk.lifecycle.suitability import load_suitability
from helixdesk.packs.loader import load_pack

PACK = load_pack("retail_bank")
SET = load_strategies(PACK)
POLICY = load_suitability(PACK)
RAW = yaml.safe_load((PACK.path / STRATEGIES_FILE).read_text(encoding="utf-8"))
TEXTS = {"zh-Hans": "文", "zh-Hant": "文", "en": "text"}


def snap(**kw: Any) -> Snapshot:
    base: dict[str, Any] = {
        "ref": "C1",
        "stage": "stability",
        "churn_band": "low",
        "risk_tolerance": "balanced",
        "age": 40,
    }
    base.update(kw)
    return Snapshot(**base)


def ids(s: Snapshot, **kw: Any) -> list[str]:
    return [r.strategy_id for r in recommend(s, SET.strategies, POLICY, **kw).shown]


def strategy(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "s",
        "what": {"kind": "guidance", "item": {"type": "service", "ref": "x"}},
        "texts": TEXTS,
        "where": ["bot"],
    }
    base.update(kw)
    return base


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as e:
        parse_strategies(data)
    assert e.value.code == "invalid_strategies"
    return e.value.detail


def test_the_pack_has_a_strategy_of_every_kind_with_three_languages() -> None:
    kinds = {s.what.kind for s in SET.strategies}
    assert kinds == {"guidance", "care", "retention_offer", "goodwill_offer", "recommendation"}
    assert all(set(s.texts) == {"zh-Hans", "zh-Hant", "en"} for s in SET.strategies)
    assert SET.limits.max_offer_value == Decimal("200.00")


def test_an_offer_above_the_banks_limit_is_refused() -> None:
    data = copy.deepcopy(RAW)
    data["strategies"][4]["what"]["value"] = "250.00"
    assert "above the bank's limit" in refused(data)


def test_a_missing_language_an_unknown_key_or_a_product_without_risk_is_refused() -> None:
    limits = {"max_offer_value": "100"}
    assert "missing: en" in refused(
        {"limits": limits, "strategies": [strategy(texts={"zh-Hans": "a", "zh-Hant": "a"})]}
    )
    assert "extra" in refused({"limits": limits, "strategies": [strategy(bypass_gate=True)]}).lower()
    product = {"kind": "recommendation", "item": {"type": "product", "ref": "fund"}}
    assert "risk level" in refused(
        {"limits": limits, "strategies": [strategy(what=product, when={"interests": ["funds"]})]}
    )
    assert "used twice" in refused({"limits": limits, "strategies": [strategy(), strategy()]})
    offer = {"kind": "retention_offer", "item": {"type": "service", "ref": "w"}, "value": "10"}
    assert "at_risk" in refused({"limits": limits, "strategies": [strategy(what=offer)]})
    goodwill = {"kind": "goodwill_offer", "item": {"type": "service", "ref": "w"}, "value": "10"}
    assert "complaint_resolved" in refused(
        {"limits": limits, "strategies": [strategy(what=goodwill, when={"at_risk": True})]}
    )
    assert "interests" in refused(
        {
            "limits": limits,
            "strategies": [strategy(what={"kind": "recommendation", "item": {"type": "news", "ref": "n"}})],
        }
    )


def test_one_edited_strategy_is_checked_against_the_limits() -> None:
    edit = RAW["strategies"][4] | {"what": {**RAW["strategies"][4]["what"], "value": "201"}}
    with pytest.raises(ConfigurationError) as e:
        parse_strategy(edit, SET.limits)
    assert e.value.code == "invalid_strategies"
    assert parse_strategy(RAW["strategies"][4], SET.limits).id == "retention_fee_waiver"


def test_exploration_customers_get_guidance() -> None:
    got = ids(snap(stage="exploration"))
    assert "first_steps_app" in got and "first_steps_payroll" in got
    assert "first_steps_app" not in ids(snap(stage="stability"))


def test_stable_customers_get_care_on_their_anniversary_and_a_callback_at_medium_risk() -> None:
    assert "anniversary_thanks" in ids(snap(), trigger="anniversary")
    assert "anniversary_thanks" not in ids(snap())  # a trigger strategy needs its trigger
    assert "relationship_callback" in ids(snap(churn_band="medium"))
    assert "relationship_callback" not in ids(snap(churn_band="low"))


def test_customers_at_risk_by_stage_or_band_get_retention_offers_and_others_do_not() -> None:
    assert "retention_fee_waiver" in ids(snap(stage="decline", churn_band="low"))
    assert "retention_fee_waiver" in ids(snap(stage="stability", churn_band="high"))
    assert "retention_fee_waiver" not in ids(snap(stage="stability", churn_band="medium"))
    (rec,) = [
        r
        for r in recommend(snap(stage="decline"), SET.strategies, POLICY).shown
        if r.strategy_id == "retention_fee_waiver"
    ]
    assert rec.reasons == ("at_risk:decline",)
    assert rec.value == Decimal("100.00")


def test_a_resolved_complaint_of_a_customer_at_risk_brings_the_goodwill_offer() -> None:
    assert "goodwill_after_complaint" in ids(snap(churn_band="high"), trigger="complaint_resolved")
    assert "goodwill_after_complaint" not in ids(snap(churn_band="low"), trigger="complaint_resolved")
    assert "goodwill_after_complaint" not in ids(snap(churn_band="high"))


def test_recommendations_follow_interests_and_say_why() -> None:
    remitter = recommend(snap(interests=("cross_border",)), SET.strategies, POLICY).shown
    fx = next(r for r in remitter if r.strategy_id == "fx_tips_for_remitters")
    assert fx.reasons == ("interest:cross_border",)
    assert "cross_border" in fx.explanation["en"] and "cross_border" in fx.explanation["zh-Hans"]
    holder = recommend(snap(interests=("funds",)), SET.strategies, POLICY).shown
    fund = next(r for r in holder if r.strategy_id == "balanced_fund")
    assert (
        fund.explanation["en"]
        == "in the stability stage; interested in funds; product risk R3 within the customer's balanced tolerance"
    )
    assert "fx_tips_for_remitters" not in [r.strategy_id for r in holder]


def test_the_gate_withholds_what_a_strategy_would_recommend() -> None:
    result = recommend(snap(interests=("funds",), risk_tolerance="balanced"), SET.strategies, POLICY)
    assert ("equity_fund", "above_tolerance") in [(w.strategy_id, w.rule) for w in result.withheld]
    elderly = recommend(
        snap(interests=("funds",), risk_tolerance="aggressive", age=70), SET.strategies, POLICY
    )
    assert {"balanced_fund", "equity_fund"} <= {w.strategy_id for w in elderly.withheld}
    complaint = recommend(snap(stage="exploration", open_complaint=True), SET.strategies, POLICY)
    assert complaint.shown == () and complaint.withheld


def test_where_and_enabled_choose_the_channel() -> None:
    assert "first_steps_payroll" not in ids(snap(stage="exploration"), where="bot")
    data = copy.deepcopy(RAW)
    data["strategies"][0]["enabled"] = False
    off = parse_strategies(data)
    assert "first_steps_app" not in [
        r.strategy_id for r in recommend(snap(stage="exploration"), off.strategies, POLICY).shown
    ]


def test_the_bot_gives_at_most_one_touch_per_conversation() -> None:
    s = snap(stage="exploration", interests=("cross_border",))
    first = bot_touch(s, SET.strategies, POLICY, given=[])
    assert first is not None and "bot" in first.where
    assert bot_touch(s, SET.strategies, POLICY, given=[first.strategy_id]) is None


def test_each_condition_alone() -> None:
    only = parse_strategies(
        {
            "limits": {"max_offer_value": "0"},
            "strategies": [
                strategy(id="band", when={"churn_bands": ["medium"]}),
                strategy(id="calm", when={"at_risk": False}),
                strategy(id="any"),
            ],
        }
    ).strategies
    band, calm, anyone = only
    assert matches(band, snap(churn_band="medium"), None) == ("churn_band:medium",)
    assert matches(band, snap(churn_band=None), None) is None
    assert matches(calm, snap(), None) == ("not_at_risk",)
    assert matches(calm, snap(stage="decline"), None) is None
    assert matches(anyone, snap(stage=None, churn_band=None), "anniversary") == ()


def test_the_moment_is_the_anniversary_for_a_week_from_the_day_of_joining():
    from datetime import date

    from helixdesk.lifecycle.recommend import moment

    joined = date(2019, 12, 4)
    assert moment(joined, date(2026, 12, 4)) == "anniversary"
    assert moment(joined, date(2026, 12, 10)) == "anniversary"
    assert moment(joined, date(2026, 12, 11)) == "conversation"
    assert moment(joined, date(2026, 12, 3)) == "conversation"
    assert moment(date(2025, 12, 30), date(2027, 1, 2)) == "anniversary"  # across the new year
    assert moment(date(2026, 12, 1), date(2026, 12, 3)) == "conversation"  # not a year yet
    assert moment(date(2020, 2, 29), date(2026, 3, 1)) == "anniversary"
