"""Bank file parsing: every problem reported with its line; nothing written on error."""

from __future__ import annotations

import json
from datetime import date

import pytest

from helixdesk.bank.importer import BankImportError, parse_bank_file
from helixdesk.bank.seed import build_demo_bank

CUSTOMER = {
    "ref": "X1",
    "name_zh": "测试",
    "name_en": "Test",
    "gender": "F",
    "birth_date": "1990-01-01",
    "segment": "mass",
    "value_tier": "gold",
    "risk_tolerance": "balanced",
    "preferred_language": "zh-Hans",
    "phone": "+8613800000000",
    "city": "上海",
    "customer_since": "2020-01-01",
}


def _lines_of(err: BankImportError) -> list[int]:
    return [p.line for p in err.problems]


def test_syntax_error_reports_line_and_column():
    with pytest.raises(BankImportError) as err:
        parse_bank_file('{\n  "customers": [\n    {"ref": "X1",,}\n  ]\n}')
    assert _lines_of(err.value) == [3]
    assert "not valid JSON" in str(err.value)


def test_field_errors_point_at_their_lines():
    bad = dict(CUSTOMER, gender="Q")
    account = {
        "number": "6217000000000000001",
        "kind": "savings",
        "balance": "12.345",
        "available": "1",
        "opened_on": "2020-01-01",
    }
    text = json.dumps({"customers": [dict(CUSTOMER, accounts=[account]), bad]}, indent=2, ensure_ascii=False)
    with pytest.raises(BankImportError) as err:
        parse_bank_file(text)
    lines = text.splitlines()
    problems = {p.path: p for p in err.value.problems}
    balance = problems["customers[0].accounts[0].balance"]
    assert '"balance"' in lines[balance.line - 1]
    gender = problems["customers[1].gender"]
    assert '"Q"' in lines[gender.line - 1]
    assert "nothing was imported" in str(err.value)


def test_duplicate_refs_point_at_the_second_one():
    text = json.dumps({"customers": [CUSTOMER, CUSTOMER]}, indent=2, ensure_ascii=False)
    with pytest.raises(BankImportError) as err:
        parse_bank_file(text)
    (problem,) = err.value.problems
    assert "duplicate customer ref 'X1'" in problem.message
    assert problem.line > 3 and '"X1"' in text.splitlines()[problem.line - 1]


@pytest.mark.parametrize("doc", ["[]", '"x"', "{}", '{"customers": "no"}'])
def test_wrong_shapes(doc):
    with pytest.raises(BankImportError):
        parse_bank_file(doc)


def test_seed_round_trips_through_the_documented_format():
    bank = build_demo_bank(5, as_of=date(2026, 11, 23))
    again = parse_bank_file(bank.model_dump_json(indent=2))
    assert again == bank


def test_seed_is_deterministic_and_varied():
    a = build_demo_bank(60, as_of=date(2026, 11, 23))
    assert a == build_demo_bank(60, as_of=date(2026, 11, 23))
    assert a != build_demo_bank(60, seed=8, as_of=date(2026, 11, 23))
    languages = {c.preferred_language for c in a.customers}
    assert {"zh-Hans", "en"} <= languages
    merchants = {t.merchant for c in a.customers for acc in c.accounts for t in acc.transactions}
    assert {"美团外卖", "京东商城", "星巴克 Starbucks"} <= merchants
    statuses = {t.status for c in a.customers for acc in c.accounts for t in acc.transactions}
    assert {"posted", "pending", "failed"} <= statuses
    ages = [date(2026, 11, 23).year - c.birth_date.year for c in a.customers]
    assert min(ages) < 36 and max(ages) >= 60


def test_the_demo_bank_never_seeds_the_future():
    from datetime import datetime, timedelta, timezone

    now = datetime(2026, 11, 23, 8, 5, tzinfo=timezone(timedelta(hours=8)))  # early morning, bank time
    bank = build_demo_bank(200, now=now)
    accounts = [a for c in bank.customers for a in c.accounts]
    times = [t.occurred_at for a in accounts for t in a.transactions] + [
        t.created_at for a in accounts for t in a.transfers
    ]
    assert times and max(times) <= now
    completed = [t.completed_at for a in accounts for t in a.transfers if t.completed_at is not None]
    assert completed and max(completed) <= now
    # Transactions of earlier today are there: the day is not simply dropped.
    assert any(t.date() == now.date() for t in (x.astimezone(now.tzinfo) for x in times))
