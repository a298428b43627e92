"""Whom an incident affects: every rule of `affects` on its own, then together; when an incident is
active; regions by city or province in either script or English; the text in each language."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from helixdesk.conversations.models import CHANNELS as CONVERSATION_CHANNELS
from helixdesk.incidents.regions import canonical_region, region_keys
from helixdesk.incidents.rules import CHANNELS, Incident, affects, is_active, text_in

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
HOLDS = frozenset({"mobile_app", "debit_card", "transfer"})


def incident(**changes) -> Incident:
    base = Incident(
        id="inc-1",
        kind="outage",
        title={"zh-Hans": "手机银行无法登录"},
        explanation={"zh-Hans": "手机银行登录服务异常。"},
        products=frozenset(),
        channels=frozenset(),
        regions=frozenset(),
        started_at=NOW - timedelta(hours=1),
        expected_fix_at=NOW + timedelta(hours=2),
        status="open",
        resolved_at=None,
    )
    return replace(base, **changes)


def hits(i: Incident, *, products=HOLDS, channel="web", region="上海", now=NOW) -> bool:
    return affects(i, products=products, channel=channel, region=region, now=now)


# ---- active ---------------------------------------------------------------------------------------


def test_an_open_or_monitoring_incident_is_active_from_its_start_on():
    for status in ("open", "monitoring"):
        i = incident(status=status)
        assert is_active(i, NOW)
        assert is_active(i, i.started_at)  # from the very start
        assert not is_active(i, i.started_at - timedelta(seconds=1))
        assert is_active(i, NOW + timedelta(days=400))  # until someone resolves it


def test_a_resolved_incident_is_active_only_between_its_start_and_its_resolution():
    i = incident(status="resolved", resolved_at=NOW)
    assert is_active(i, NOW - timedelta(minutes=1))
    assert not is_active(i, NOW)
    assert not is_active(i, NOW + timedelta(minutes=1))
    assert not is_active(i, i.started_at - timedelta(minutes=1))


def test_a_planned_incident_is_not_active_before_it_starts():
    planned = incident(started_at=NOW + timedelta(hours=3), expected_fix_at=NOW + timedelta(hours=5))
    assert not hits(planned)
    assert hits(planned, now=NOW + timedelta(hours=3))


def test_an_incident_that_is_not_active_affects_nobody():
    assert not hits(incident(status="resolved", resolved_at=NOW - timedelta(minutes=5)))


# ---- each restriction -----------------------------------------------------------------------------


def test_no_restriction_affects_everyone_anonymous_or_not_on_every_channel():
    i = incident()
    for channel in CHANNELS:
        assert hits(i, channel=channel)
        assert hits(i, channel=channel, products=None, region=None)


def test_channels_restrict_to_the_conversations_channel():
    i = incident(channels=frozenset({"app", "wechat"}))
    assert hits(i, channel="app") and hits(i, channel="wechat")
    assert not hits(i, channel="web")
    assert not hits(i, channel=None)


def test_products_restrict_to_customers_holding_one_of_them():
    i = incident(products=frozenset({"credit_card", "mobile_app"}))
    assert hits(i, products=frozenset({"mobile_app"}))
    assert hits(i, products=frozenset({"credit_card", "wealth"}))
    assert not hits(i, products=frozenset({"debit_card", "payroll"}))
    assert not hits(i, products=frozenset())


def test_regions_restrict_to_customers_whose_city_lies_in_one():
    i = incident(regions=frozenset({"广东"}))
    assert hits(i, region="深圳") and hits(i, region="广州")
    assert not hits(i, region="上海")
    city = incident(regions=frozenset({"上海"}))
    assert hits(city, region="上海") and not hits(city, region="北京")


def test_an_anonymous_customer_is_matched_on_the_channel_only_without_product_or_region_restrictions():
    anonymous = {"products": None, "region": None}
    assert hits(incident(channels=frozenset({"web"})), channel="web", **anonymous)
    assert not hits(incident(channels=frozenset({"web"})), channel="app", **anonymous)
    assert not hits(incident(products=frozenset({"mobile_app"})), **anonymous)
    assert not hits(incident(regions=frozenset({"上海"})), **anonymous)


def test_a_known_customer_whose_products_were_not_read_is_not_taken_to_hold_them():
    assert not hits(incident(products=frozenset({"mobile_app"})), products=None, region="上海")
    assert hits(incident(regions=frozenset({"上海"})), products=None, region="上海")


def test_every_restriction_must_hold_at_once():
    i = incident(products=frozenset({"mobile_app"}), channels=frozenset({"app"}), regions=frozenset({"广东"}))
    assert hits(i, channel="app", region="深圳")
    assert not hits(i, channel="web", region="深圳")
    assert not hits(i, channel="app", region="北京")
    assert not hits(i, channel="app", region="深圳", products=frozenset({"credit_card"}))


# ---- regions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("上海", "上海"),
        ("上海市", "上海"),
        ("Shanghai", "上海"),
        (" shanghai ", "上海"),
        ("廣東省", "广东"),
        ("Guangdong", "广东"),
        ("澳門", "澳门"),
        ("Hong Kong", "香港"),
        ("台北", "台北"),
        ("佛山市", "佛山"),  # not in the table: compared as written, folded
    ],
)
def test_a_region_is_known_by_its_names(name, key):
    assert canonical_region(name) == key


def test_a_city_lies_in_itself_and_its_province():
    assert region_keys("深圳") == {"深圳", "广东"}
    assert region_keys("澳門") == {"澳门"}
    assert region_keys("台北") == {"台北", "台湾"}
    assert region_keys(None) == frozenset() and region_keys("  ") == frozenset()
    i = incident(regions=frozenset({canonical_region("Taiwan")}))
    assert hits(i, region="台北")


def test_every_city_of_the_demo_bank_is_in_the_table_with_its_english_name():
    from helixdesk.bank.seed import _CITIES_HANT, _CITIES_ZH
    from helixdesk.incidents.regions import _PLACES

    for city in (*_CITIES_ZH, *_CITIES_HANT):
        key = canonical_region(city)
        assert key in _PLACES, city
        english = _PLACES[key][0][0]
        assert canonical_region(english) == key


def test_the_registers_channels_are_the_conversations_channels():
    assert set(CHANNELS) == set(CONVERSATION_CHANNELS)


# ---- texts ------------------------------------------------------------------------------------------


def test_the_text_in_each_language_with_its_fallbacks():
    all_three = {"zh-Hans": "手机银行暂停服务", "zh-Hant": "手機銀行暫停服務", "en": "The app is down"}
    assert text_in(all_three, "zh-Hant") == "手機銀行暫停服務"
    assert text_in(all_three, "en") == "The app is down"
    simplified = {"zh-Hans": "手机银行暂停服务"}
    assert text_in(simplified, "zh-Hant") == "手機銀行暫停服務"  # converted
    assert text_in(simplified, "en") == "手机银行暂停服务"  # no English: the Chinese
    assert text_in({"zh-Hant": "手機銀行暫停服務"}, "zh-Hans") == "手机银行暂停服务"
    assert text_in({"zh-Hant": "手機銀行暫停服務"}, "en") == "手機銀行暫停服務"
    english = {"en": "The app is down"}
    assert text_in(english, "zh-Hans") == "The app is down"
    assert text_in({"zh-Hans": "  ", "en": "Down"}, "zh-Hans") == "Down"  # blank is not given
