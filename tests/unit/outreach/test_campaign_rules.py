"""The campaigns' pure rules: quiet hours (also across midnight, in the bank's zone), the rate
budget, and the configuration from the pack with the settings winning."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings
from helixdesk.outreach.campaign_rules import (
    CampaignConfig,
    load_campaign_config,
    parse_quiet_hours,
    quiet_until,
    send_budget,
)
from helixdesk.packs.loader import Pack, load_pack

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = CampaignConfig(quiet_hours=(time(21, 0), time(8, 0)))
LUNCH = CampaignConfig(quiet_hours=(time(12, 0), time(13, 30)))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("at", "until"),
    [
        (local(4, 20, 59), None),
        (local(4, 21, 0), local(5, 8, 0)),
        (local(4, 23, 30), local(5, 8, 0)),
        (local(5, 0, 0), local(5, 8, 0)),
        (local(5, 7, 59), local(5, 8, 0)),
        (local(5, 8, 0), None),
        (local(5, 14, 0), None),
    ],
)
def test_quiet_hours_across_midnight_end_the_next_morning(at, until):
    assert quiet_until(NIGHT, at, SHANGHAI) == until


def test_quiet_hours_within_a_day_and_none():
    assert quiet_until(LUNCH, local(4, 12, 15), SHANGHAI) == local(4, 13, 30)
    assert quiet_until(LUNCH, local(4, 13, 30), SHANGHAI) is None
    assert quiet_until(CampaignConfig(quiet_hours=None), local(4, 23, 0), SHANGHAI) is None


def test_the_budget_is_the_rate_less_the_last_minutes_sends():
    config = CampaignConfig(messages_per_minute=60)
    assert send_budget(config, sent_last_minute=0) == 60
    assert send_budget(config, sent_last_minute=59) == 1
    assert send_budget(config, sent_last_minute=75) == 0


def test_quiet_hours_are_parsed_or_refused():
    assert parse_quiet_hours("21:00-08:00") == (time(21, 0), time(8, 0))
    assert parse_quiet_hours("off") is None
    for bad in ("21-08", "25:00-08:00", "09:00-09:00", "nine to five"):
        with pytest.raises(ConfigurationError):
            parse_quiet_hours(bad)


def test_the_pack_gives_the_defaults_and_settings_win():
    pack = load_pack("retail_bank")
    section = pack.config["outreach"]["campaigns"]
    config = load_campaign_config(pack)
    assert config.messages_per_minute == section["messages_per_minute"]
    assert config.quiet_hours_text == section["quiet_hours"]
    settings = Settings(_env_file=None, campaign_messages_per_minute=5, campaign_quiet_hours="off")  # type: ignore[call-arg]
    overridden = load_campaign_config(pack, settings)
    assert overridden.messages_per_minute == 5 and overridden.quiet_hours is None
    broken = Pack(name="x", path=pack.path, config={"outreach": {"campaigns": {"messages_per_minute": 0}}})
    with pytest.raises(ConfigurationError):
        load_campaign_config(broken)
