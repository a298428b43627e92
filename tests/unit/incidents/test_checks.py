"""Checking an incident: each field and the order of its times, with the stable code `invalid_incident`
and a message naming the field; a valid draft comes back cleaned."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from helixdesk.incidents.checks import IncidentDraft, check_incident, check_resolution
from helixdesk.incidents.errors import InvalidIncidentError

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
GOOD = IncidentDraft(
    kind="app_error",
    title={"zh-Hans": " 手机银行登录失败 ", "en": ""},
    explanation={"zh-Hans": "部分客户登录手机银行时提示系统繁忙。"},
    products=["mobile_app", "mobile_app", "credit_card"],
    channels=["app", "web"],
    regions=["上海", "Shanghai", "广东"],
    started_at=NOW - timedelta(hours=1),
    expected_fix_at=NOW + timedelta(hours=2),
)


def refused(draft: IncidentDraft) -> str:
    with pytest.raises(InvalidIncidentError) as e:
        check_incident(draft, now=NOW)
    assert e.value.code == "invalid_incident" and e.value.http_status == 422
    return e.value.detail


def test_a_valid_draft_comes_back_cleaned():
    clean = check_incident(GOOD, now=NOW)
    assert clean.title == {"zh-Hans": "手机银行登录失败"}  # stripped, the blank language dropped
    assert list(clean.products) == ["mobile_app", "credit_card"]  # once each, in the register's order
    assert list(clean.channels) == ["web", "app"]
    assert list(clean.regions) == ["上海", "广东"]  # "Shanghai" is 上海 again
    assert clean.status == "open"


def test_without_a_start_the_incident_starts_now_and_a_fix_time_is_optional():
    clean = check_incident(replace(GOOD, started_at=None, expected_fix_at=None), now=NOW)
    assert clean.started_at == NOW and clean.expected_fix_at is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "earthquake"}, "kind"),
        ({"status": "resolved"}, "status"),
        ({"status": "closed"}, "status"),
        ({"title": {}}, "title"),
        ({"title": {"zh-Hans": "   "}}, "title"),
        ({"title": {"fr": "Panne"}}, "title"),
        ({"title": {"en": "x" * 121}}, "title.en"),
        ({"explanation": {"en": ""}}, "explanation"),
        ({"explanation": {"zh-Hant": "字" * 1001}}, "explanation.zh-Hant"),
        ({"products": ["mortgage"]}, "products"),
        ({"products": "mobile_app"}, "products"),
        ({"channels": ["fax"]}, "channels"),
        ({"regions": ["  "]}, "regions"),
        ({"regions": ["长" * 41]}, "regions"),
        ({"regions": [f"城市{i}" for i in range(31)]}, "regions"),
    ],
)
def test_a_bad_field_is_refused_by_name(changes, field):
    assert field in refused(replace(GOOD, **changes))


def test_the_times_must_be_in_order_and_carry_a_zone():
    assert "after started_at" in refused(replace(GOOD, expected_fix_at=GOOD.started_at))
    assert "after started_at" in refused(replace(GOOD, expected_fix_at=NOW - timedelta(hours=2)))
    assert "time zone" in refused(replace(GOOD, started_at=datetime(2026, 12, 4, 9, 0)))
    assert "time zone" in refused(replace(GOOD, expected_fix_at=datetime(2026, 12, 4, 12, 0)))
    assert "a year ahead" in refused(
        replace(GOOD, started_at=NOW + timedelta(days=400), expected_fix_at=NOW + timedelta(days=401))
    )
    assert "a year after" in refused(replace(GOOD, expected_fix_at=GOOD.started_at + timedelta(days=367)))


def test_an_update_names_only_known_fields():
    with pytest.raises(InvalidIncidentError) as e:
        GOOD.with_changes({"severity": "high"})
    assert "severity" in e.value.detail
    assert GOOD.with_changes({"kind": "outage"}).kind == "outage"


def test_a_resolution_is_not_before_the_start_nor_in_the_future():
    start = NOW - timedelta(hours=1)
    assert check_resolution(start, None, " fixed ", now=NOW) == (NOW, "fixed")
    assert check_resolution(start, NOW - timedelta(minutes=5), "", now=NOW)[0] == NOW - timedelta(minutes=5)
    planned = NOW + timedelta(hours=3)
    assert check_resolution(planned, None, "", now=NOW)[0] == planned  # called off: never active
    for when in (start - timedelta(seconds=1), NOW + timedelta(minutes=1), datetime(2026, 12, 4, 9, 0)):
        with pytest.raises(InvalidIncidentError):
            check_resolution(start, when, "", now=NOW)
    with pytest.raises(InvalidIncidentError):
        check_resolution(start, None, "n" * 401, now=NOW)
