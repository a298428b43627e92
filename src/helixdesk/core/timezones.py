"""The bank's time zone: an IANA zone name (`Asia/Shanghai`, `Asia/Hong_Kong`) read with `zoneinfo`.

The zone data comes from the system or, where the system has none, from the `tzdata` package (a
pinned dependency), so a zone resolves the same way on every host, offline.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
EXAMPLES = "Asia/Shanghai, Asia/Hong_Kong, Asia/Singapore, Europe/London"


class UnknownTimeZoneError(ValueError):
    """A name that is not an IANA time zone."""

    code = "unknown_timezone"


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or `UnknownTimeZoneError` with a message naming the value."""
    text = str(name).strip()
    if not text or text != name:
        raise UnknownTimeZoneError(f"time zone must be an IANA name like {EXAMPLES}, not {name!r}")
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise UnknownTimeZoneError(f"unknown time zone {name!r}: use an IANA name like {EXAMPLES}") from e


def parse_offset(text: str) -> timezone:
    """A fixed UTC offset written `+08:00` (the packs' older `utc_offset`)."""
    sign, rest = text[:1], text[1:]
    hours, _, minutes = rest.partition(":")
    if sign not in "+-" or not hours.isdigit() or not (minutes or "0").isdigit():
        raise ValueError(f"utc_offset must look like +08:00, not {text!r}")
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=24):
        raise ValueError(f"utc_offset must be less than 24 hours, not {text!r}")
    return timezone(-delta if sign == "-" else delta)


def fixed_offset(tz: tzinfo, *, years: range = range(2000, 2040)) -> timedelta | None:
    """The zone's offset when it is the same all year round over `years`, else None (summer time)."""
    seen = {datetime(year, month, 1, 12, tzinfo=tz).utcoffset() for year in years for month in (1, 7)}
    return next(iter(seen)) if len(seen) == 1 else None


def offset_text(delta: timedelta) -> str:
    """`+08:00`, `-05:30`."""
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"
