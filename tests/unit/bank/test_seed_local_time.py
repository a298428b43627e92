"""The demo bank is dated in the bank's time zone and holds nothing after the moment it is seeded:
no transaction, transfer, completion, statement, plan or account from the future."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from helixdesk.bank.seed import build_demo_bank


@pytest.mark.parametrize(
    ("now", "zone"),
    [
        (datetime(2026, 12, 2, 17, 30, tzinfo=UTC), "Asia/Shanghai"),  # 01:30 on the 3rd in Shanghai
        (datetime(2026, 12, 4, 23, 50, tzinfo=UTC), "Asia/Hong_Kong"),  # 07:50 on the 5th, statement day
        (datetime(2026, 7, 1, 0, 20, tzinfo=UTC), "Europe/London"),  # 01:20 in summer time
    ],
)
def test_nothing_is_seeded_after_now_in_the_banks_zone(now, zone):
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    bank = build_demo_bank(80, now=now, tz=tz)
    accounts = [a for c in bank.customers for a in c.accounts]
    moments = [t.occurred_at for a in accounts for t in a.transactions]
    moments += [t.created_at for a in accounts for t in a.transfers]
    moments += [t.completed_at for a in accounts for t in a.transfers if t.completed_at is not None]
    assert moments and max(moments) <= now
    cards = [card for a in accounts for card in a.cards]
    statements = [s.statement_date for card in cards for s in card.statements]
    assert statements and max(statements) <= today  # only issued statements
    days: list[date] = [p.start_date for card in cards for p in card.installment_plans]
    days += [a.opened_on for a in accounts] + [c.customer_since for c in bank.customers]
    assert max(days) <= today
