"""The bank's time zone: an IANA zone from the pack, overridden by `bank_timezone`, validated with
a clear error; "today" and "this month" are read in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from helixdesk.actions.policies import BankPolicy, load_action_policies
from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings
from helixdesk.core.timezones import UnknownTimeZoneError, fixed_offset, zone
from helixdesk.edge.wiring import PackConfig
from helixdesk.nlu.entities.dates import find_dates
from helixdesk.packs.loader import Pack, load_pack


def test_the_pack_gives_an_iana_zone_and_the_setting_overrides_it():
    pack = load_pack("retail_bank")
    assert load_action_policies(pack).bank.tz == ZoneInfo("Asia/Shanghai")
    hk = load_action_policies(pack, timezone="Asia/Hong_Kong").bank
    assert hk.tz == ZoneInfo("Asia/Hong_Kong") and hk.zone_name == "Asia/Hong_Kong"
    # Replies and the turn's "today" use the same zone.
    config = PackConfig.load(pack, code_length=6, timezone="Europe/London")
    assert config.templates.tz == ZoneInfo("Europe/London")


@pytest.mark.parametrize("name", ["Asia/Shangai", "Beijing", "UTC+8", "../etc/passwd", "", " Asia/Shanghai"])
def test_an_unknown_zone_is_refused_naming_the_value(name):
    with pytest.raises(UnknownTimeZoneError) as e:
        zone(name)
    assert repr(name) in str(e.value) and "Asia/Shanghai" in str(e.value)


def test_the_setting_refuses_an_unknown_zone_at_start_up():
    with pytest.raises(ValidationError) as e:
        Settings(_env_file=None, bank_timezone="Asia/Shangai")  # type: ignore[call-arg]
    assert "bank_timezone" in str(e.value) and "unknown time zone 'Asia/Shangai'" in str(e.value)
    ok = Settings(_env_file=None, bank_timezone="Asia/Hong_Kong")  # type: ignore[call-arg]
    assert ok.bank_timezone == "Asia/Hong_Kong"


def test_an_unknown_zone_in_a_pack_is_an_invalid_policy(tmp_path):
    source = load_pack("retail_bank").path / "policies"
    folder = tmp_path / "policies"
    folder.mkdir()
    for name in ("fees.yaml", "disputes.yaml"):
        (folder / name).write_text((source / name).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "bank.yaml").write_text("timezone: Mars/Olympus_Mons\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as e:
        load_action_policies(Pack(name="copy", path=tmp_path, config={}))
    assert e.value.code == "invalid_policy" and "Mars/Olympus_Mons" in str(e.value)
    (folder / "bank.yaml").write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as e:
        load_action_policies(Pack(name="copy", path=tmp_path, config={}), timezone="Nowhere/City")
    assert "Nowhere/City" in str(e.value)


def test_an_older_pack_with_only_a_utc_offset_keeps_working():
    legacy = BankPolicy(utc_offset="+08:00")
    assert legacy.tz.utcoffset(None) == timedelta(hours=8)
    assert legacy.zone_name == "UTC+08:00"
    # Both given and in agreement: the zone is used.
    both = BankPolicy(utc_offset="+08:00", timezone="Asia/Hong_Kong")
    assert both.tz == ZoneInfo("Asia/Hong_Kong")


@pytest.mark.parametrize(
    ("offset", "name", "why"),
    [
        ("+09:00", "Asia/Shanghai", "is +08:00"),
        ("+00:00", "Europe/London", "changes with summer time"),
    ],
)
def test_a_utc_offset_that_disagrees_with_the_zone_is_refused(offset, name, why):
    with pytest.raises(ValidationError) as e:
        BankPolicy(utc_offset=offset, timezone=name)
    assert "disagrees" in str(e.value) and why in str(e.value)


def test_a_setting_zone_replaces_a_packs_utc_offset():
    legacy = BankPolicy(utc_offset="+08:00")
    assert legacy.in_zone("Europe/London").tz == ZoneInfo("Europe/London")


def test_fixed_offset_sees_summer_time():
    assert fixed_offset(zone("Asia/Shanghai")) == timedelta(hours=8)
    assert fixed_offset(zone("Asia/Hong_Kong")) == timedelta(hours=8)
    assert fixed_offset(zone("Europe/London")) is None


# --- "today" and "this month" in the bank's zone ------------------------------------------------------


def _range(text: str, reference: datetime) -> tuple[str, str]:
    (c,) = find_dates(text, reference)
    return c.value["start"][:10], c.value["end"][:10]


def test_today_is_the_banks_day_not_the_servers():
    # 17:30 UTC on 3 December is 01:30 on 4 December in Shanghai, still 3 December in London.
    at = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)
    shanghai = at.astimezone(zone("Asia/Shanghai"))
    london = at.astimezone(zone("Europe/London"))
    assert _range("今天", shanghai) == ("2026-12-04", "2026-12-05")
    assert _range("yesterday", shanghai) == ("2026-12-03", "2026-12-04")
    assert _range("today", london) == ("2026-12-03", "2026-12-04")
    assert _range("3号", shanghai) == ("2026-12-03", "2026-12-04")


def test_this_month_is_the_first_up_to_today():
    at = datetime(2026, 12, 3, 17, 30, tzinfo=UTC).astimezone(zone("Asia/Shanghai"))
    assert _range("这个月", at) == ("2026-12-01", "2026-12-05")  # [1 Dec, 5 Dec): up to the 4th
    assert _range("本月", at) == ("2026-12-01", "2026-12-05")
    assert _range("this month", at) == ("2026-12-01", "2026-12-05")
    # Last month is the whole month; next month is not cut either.
    assert _range("上个月", at) == ("2026-11-01", "2026-12-01")
    assert _range("last month", at) == ("2026-11-01", "2026-12-01")
    assert _range("next month", at) == ("2027-01-01", "2027-02-01")


def test_the_first_of_the_month_just_after_midnight_local():
    # 16:10 UTC on 30 November is 00:10 on 1 December in Shanghai: "this month" is December.
    at = datetime(2026, 11, 30, 16, 10, tzinfo=UTC).astimezone(zone("Asia/Shanghai"))
    assert _range("this month", at) == ("2026-12-01", "2026-12-02")
    assert _range("last month", at) == ("2026-11-01", "2026-12-01")


def test_a_fixed_offset_reference_reads_the_same_day():
    at = datetime(2026, 12, 3, 17, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=8)))
    assert _range("today", at) == ("2026-12-04", "2026-12-05")
