"""The pure rules of an incident campaign: quiet hours, the rate budget, and their configuration.

    config = load_campaign_config(pack, settings)       # pack `outreach.campaigns`, settings win
    quiet_until(config, now, tz)                         # None, or when the quiet hours end
    send_budget(config, sent_last_minute=42)             # how many may go now

Quiet hours are a span of the bank's local day, `21:00-08:00` (crossing midnight) or `12:00-13:30`;
a notice due inside it waits until it ends. The rate is at most `messages_per_minute` messages in any
60 seconds, over all campaigns (the gateway's limit), so a big incident drains over time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings
from helixdesk.packs.loader import Pack

DEFAULT_PER_MINUTE = 60
DEFAULT_QUIET_HOURS = "21:00-08:00"
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    messages_per_minute: int = DEFAULT_PER_MINUTE
    quiet_hours: tuple[time, time] | None = None  # start, end in the bank's time; None: none
    page_size: int = 500  # customers targeted per step
    sending_lease: timedelta = timedelta(minutes=10)  # a notice left `sending` is sent again after it

    @property
    def quiet_hours_text(self) -> str:
        if self.quiet_hours is None:
            return "off"
        start, end = self.quiet_hours
        return f"{start:%H:%M}-{end:%H:%M}"


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """`"21:00-08:00"` -> (21:00, 08:00); `"off"` -> None."""
    value = text.strip()
    if value.lower() in ("off", "none", ""):
        return None
    match = _SPAN.match(value)
    if match is None:
        raise ConfigurationError(f"quiet hours must look like 21:00-08:00 (or off), not {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ConfigurationError(f"quiet hours {text!r} start and end at the same time; use off")
    return start, end


def load_campaign_config(pack: Pack, settings: Settings | None = None) -> CampaignConfig:
    """The pack's `outreach.campaigns` (`quiet_hours`, `messages_per_minute`); a setting given
    (`campaign_quiet_hours`, `campaign_messages_per_minute`) wins over the pack."""
    section: Any = (pack.config.get("outreach") or {}).get("campaigns") or {}
    if not isinstance(section, dict):
        raise ConfigurationError(f"pack {pack.name}: outreach.campaigns must be a mapping")
    quiet = str(section.get("quiet_hours", DEFAULT_QUIET_HOURS))
    rate = section.get("messages_per_minute", DEFAULT_PER_MINUTE)
    if settings is not None and settings.campaign_quiet_hours is not None:
        quiet = settings.campaign_quiet_hours
    if settings is not None and settings.campaign_messages_per_minute is not None:
        rate = settings.campaign_messages_per_minute
    if not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= 100_000:
        raise ConfigurationError(f"pack {pack.name}: messages_per_minute must be 1 to 100000, not {rate!r}")
    return CampaignConfig(messages_per_minute=rate, quiet_hours=parse_quiet_hours(quiet))


def quiet_until(config: CampaignConfig, now: datetime, tz: tzinfo) -> datetime | None:
    """When the quiet hours `now` falls in end (UTC-aware as `now`), or None outside them."""
    if config.quiet_hours is None:
        return None
    start, end = config.quiet_hours
    local = now.astimezone(tz)
    at = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= at < end
        end_day = local.date()
    else:  # across midnight: from start to the end of the day, and from midnight to end
        inside = at >= start or at < end
        end_day = local.date() + timedelta(days=1) if at >= start else local.date()
    if not inside:
        return None
    ends = datetime.combine(end_day, end, tzinfo=tz)
    return ends.astimezone(now.tzinfo)


def send_budget(config: CampaignConfig, *, sent_last_minute: int) -> int:
    """How many messages may go now: the rate less those handed over in the last 60 seconds."""
    return max(0, config.messages_per_minute - sent_last_minute)
