"""The demo core bank on SQLite and on PostgreSQL: import all-or-nothing, connector queries."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from helixdesk.bank.connector import BankConnector
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import BankImportError, import_bank_file, parse_bank_file
from helixdesk.bank.models import BankCustomer, BankTransaction
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import transaction
from helixdesk.errors import NotFoundError

AS_OF = date(2026, 11, 23)


@pytest.fixture
def seeded(sessions):
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(20, as_of=AS_OF))
    return DemoBankConnector(session_factory=sessions)


def test_demo_connector_is_a_bank_connector(seeded):
    assert isinstance(seeded, BankConnector)


def test_customer_profile_and_products(seeded):
    customer = seeded.get_customer("C000001")
    assert customer is not None
    assert customer.name_zh and customer.name_en
    assert customer.preferred_language in ("zh-Hans", "zh-Hant", "en")
    accounts = seeded.list_accounts("C000001")
    assert accounts and all(isinstance(a.balance, Decimal) for a in accounts)
    cards = seeded.list_cards("C000001")
    assert {c.kind for c in cards} <= {"debit", "credit"}
    assert all(len(c.last4) == 4 for c in cards)
    assert seeded.get_customer("C999999") is None


def test_transactions_filter_by_period_newest_first(seeded):
    since = AS_OF - timedelta(days=30)
    from datetime import UTC, datetime

    since_dt = datetime.combine(since, datetime.min.time(), UTC)
    txns = seeded.list_transactions("C000002", since=since_dt, limit=500)
    assert txns
    assert all(t.occurred_at >= since_dt for t in txns)
    assert [t.occurred_at for t in txns] == sorted((t.occurred_at for t in txns), reverse=True)
    assert any(t.merchant for t in txns)


def test_statements_plans_transfers_shapes(seeded):
    with_credit = [r for r in (f"C{i:06d}" for i in range(1, 21)) if seeded.list_statements(r)]
    assert with_credit, "the seed gives most customers a credit card"
    statement = seeded.list_statements(with_credit[0])[0]
    assert statement.due_date > statement.statement_date
    assert statement.minimum_payment <= statement.amount_due
    plans = [p for r in with_credit for p in seeded.list_installment_plans(r)]
    assert plans and all(0 <= p.periods_paid < p.periods for p in plans)
    assert all(isinstance(p.fee_rate_per_period, Decimal) for p in plans)
    transfers = [t for i in range(1, 21) for t in seeded.list_transfers(f"C{i:06d}")]
    assert {t.status for t in transfers} & {"pending", "failed", "completed"}
    assert all(t.failure_reason for t in transfers if t.status in ("failed", "returned"))


def test_set_card_status(seeded):
    card = seeded.list_cards("C000003")[0]
    frozen = seeded.set_card_status("C000003", card.last4, "frozen")
    assert frozen.status == "frozen"
    assert seeded.list_cards("C000003")[0].status == "frozen"
    with pytest.raises(NotFoundError):
        seeded.set_card_status("C000003", "0000" if card.last4 != "0000" else "0001", "frozen")


def test_import_is_all_or_nothing(sessions, seeded):
    before = _counts(sessions)
    good = build_demo_bank(1, seed=99, as_of=AS_OF).model_dump(mode="json")
    good["customers"][0]["ref"] = "NEW001"
    for account in good["customers"][0]["accounts"]:
        account["number"] = "9" + account["number"][1:]
        for t in account["transactions"]:
            t["ref"] = "N" + t["ref"]
        for t in account["transfers"]:
            t["ref"] = "N" + t["ref"]
        for card in account["cards"]:
            for p in card.get("installment_plans", []):
                p["ref"] = "N" + p["ref"]
    clash = build_demo_bank(1, as_of=AS_OF).model_dump(mode="json")  # C000001 exists already
    doc = {"customers": good["customers"] + clash["customers"]}
    with pytest.raises(BankImportError, match="C000001 already exists"), transaction(sessions) as s:
        import_bank_file(s, parse_bank_file(json.dumps(doc)))
    assert _counts(sessions) == before
    with transaction(sessions) as s:
        import_bank_file(s, parse_bank_file(json.dumps({"customers": good["customers"]})))
    assert _counts(sessions)[0] == before[0] + 1


def _counts(sessions):
    with sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(BankCustomer)),
            s.scalar(select(func.count()).select_from(BankTransaction)),
        )
