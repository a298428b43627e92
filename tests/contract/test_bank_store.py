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
from helixdesk.core.errors import NotFoundError
from helixdesk.db.session import transaction

AS_OF = date(2026, 11, 23)


@pytest.fixture
def seeded(sessions):
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(20, as_of=AS_OF))
    return DemoBankConnector(session_factory=sessions)


def test_demo_connector_is_a_bank_connector(seeded):
    assert isinstance(seeded, BankConnector)


def test_customers_are_listed_page_by_page_in_order_of_reference(seeded, sessions):
    with transaction(sessions) as s:
        refs = sorted(s.scalars(select(BankCustomer.ref)))
    pages, after = [], None
    while page := seeded.list_customers(after=after, limit=7):
        pages.append([c.ref for c in page])
        after = page[-1].ref
    assert [len(p) for p in pages] == [7, 7, len(refs) - 14]
    assert [ref for p in pages for ref in p] == refs
    assert seeded.list_customers(after=refs[-1]) == []
    assert seeded.get_customer(refs[3]) == seeded.list_customers(after=refs[2], limit=1)[0]


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


def test_post_credit_is_idempotent_by_ref(seeded):
    from datetime import UTC, datetime

    from helixdesk.core.errors import ValidationFailedError

    account = next(a for a in seeded.list_accounts("C000004") if a.currency == "CNY")
    when = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    kwargs = {
        "ref": "RFTEST0001",
        "account_number": account.number,
        "amount": Decimal("12.34"),
        "currency": "CNY",
        "merchant": "淘宝",
        "description": "refund",
        "occurred_at": when,
    }
    first = seeded.post_credit("C000004", **kwargs)
    again = seeded.post_credit("C000004", **kwargs)
    assert first == again
    assert (first.amount, first.status, first.category) == (Decimal("12.34"), "posted", "refund")
    after = next(a for a in seeded.list_accounts("C000004") if a.number == account.number)
    assert after.balance == account.balance + Decimal("12.34")  # credited once
    assert after.available == account.available + Decimal("12.34")
    assert [t.ref for t in seeded.list_transactions("C000004", limit=500)].count("RFTEST0001") == 1
    with pytest.raises(ValidationFailedError):
        seeded.post_credit("C000004", **{**kwargs, "ref": "RFTEST0002", "amount": Decimal("0")})
    with pytest.raises(NotFoundError) as e:
        seeded.post_credit("C000005", **{**kwargs, "ref": "RFTEST0003"})  # not C000005's account
    assert e.value.code == "account_not_found"


def test_request_card_reissue(seeded):
    from helixdesk.core.errors import ConflictError

    card = seeded.list_cards("C000006")[0]
    if card.status != "active":
        seeded.set_card_status("C000006", card.last4, "active")
    with pytest.raises(ConflictError) as e:
        seeded.request_card_reissue("C000006", card.last4, requested_on=AS_OF)
    assert e.value.code == "card_not_frozen"
    seeded.set_card_status("C000006", card.last4, "frozen")
    done = seeded.request_card_reissue("C000006", card.last4, requested_on=AS_OF)
    assert done.old_card.last4 == card.last4 and done.old_card.status == "cancelled"
    assert done.new_card.status == "inactive" and done.new_card.last4 != card.last4
    assert done.new_card.account_number == card.account_number and done.new_card.product == card.product
    assert done.expected_delivery > AS_OF
    cards = {c.last4: c.status for c in seeded.list_cards("C000006")}
    assert cards[card.last4] == "cancelled" and cards[done.new_card.last4] == "inactive"
    with pytest.raises(NotFoundError):  # the cancelled card cannot be replaced twice
        seeded.request_card_reissue("C000006", card.last4, requested_on=AS_OF)
    with pytest.raises(NotFoundError):
        seeded.request_card_reissue("C999999", "0000", requested_on=AS_OF)
