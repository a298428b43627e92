"""The spike rule: far above the usual count, and not on a handful of messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helixdesk.core.errors import ValidationFailedError
from helixdesk.insight.hotspots import SPIKE_MIN, Period, is_spike
from helixdesk.insight.query import parse_filters, parse_period

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("count", "baseline", "spike"),
    [
        (33, 5.0, True),  # six times the usual
        (12, 5.0, False),  # more than usual, within its noise
        (SPIKE_MIN, 0.0, True),  # new, with enough messages
        (SPIKE_MIN - 1, 0.0, False),  # new, too few to say
        (60, 30.0, False),  # doubled a large topic: a trend, not a spike
        (100, 30.0, True),
    ],
)
def test_spike(count: int, baseline: float, spike: bool) -> None:
    assert is_spike(count, baseline) is spike


def test_periods_and_filters_are_checked_with_stable_codes() -> None:
    week = parse_period("week", None, None, NOW)
    assert week == Period(NOW - timedelta(days=7), NOW)
    assert week.before() == Period(NOW - timedelta(days=14), NOW - timedelta(days=7))
    for bad in (
        lambda: parse_period("year", None, None, NOW),
        lambda: parse_period(None, NOW, None, NOW),
        lambda: parse_period(None, NOW, NOW - timedelta(days=1), NOW),
        lambda: parse_period(None, NOW - timedelta(days=400), NOW, NOW),
        lambda: parse_period(None, datetime(2026, 11, 1), datetime(2026, 11, 2), NOW),  # no offset
    ):
        with pytest.raises(ValidationFailedError) as e:
            bad()
        assert e.value.code == "invalid_period"
    with pytest.raises(ValidationFailedError) as e:
        parse_filters(language="fr")
    assert e.value.code == "invalid_language"
    with pytest.raises(ValidationFailedError) as e:
        parse_filters(source="email")
    assert e.value.code == "invalid_source"
    with pytest.raises(ValidationFailedError) as e:
        parse_filters(channel="web'; drop table")
    assert e.value.code == "invalid_channel"
