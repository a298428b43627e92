"""What a customer holds, in the register's product names, from the bank connector's records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from helixdesk.bank.connector import Account, Card, Customer, Transaction
from helixdesk.incidents.products import products_of
from helixdesk.incidents.rules import PRODUCTS

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def customer(segment: str = "mass", interests: tuple[str, ...] = ()) -> Customer:
    return Customer(
        ref="C000001",
        name_zh="王芳",
        name_en="Fang Wang",
        gender="F",
        birth_date=date(1985, 5, 1),
        segment=segment,
        value_tier="standard",
        risk_tolerance="balanced",
        preferred_language="zh-Hans",
        phone="+8613800138000",
        email=None,
        city="上海",
        customer_since=date(2015, 1, 1),
        interests=interests,
    )


def account(kind: str, status: str = "active") -> Account:
    return Account("6217", "C000001", kind, "CNY", Decimal(1), Decimal(1), status, date(2020, 1, 1))


def card(kind: str, status: str = "active") -> Card:
    return Card("C000001", "6217", kind, "Card", "1234", status, None, Decimal(1), "01/30", False)


def credit(category: str, amount: str, status: str = "posted") -> Transaction:
    return Transaction(
        "T1", "6217", None, NOW - timedelta(days=20), Decimal(amount), "CNY", "工资代发 Payroll", category,
        "transfer", status, "",
    )  # fmt: skip


def test_a_savings_account_with_a_debit_card_gives_the_app_transfers_and_the_card():
    held = products_of(customer(), [account("savings")], [card("debit")])
    assert held == {"savings_account", "transfer", "mobile_app", "debit_card"}


def test_a_credit_card_alone_gives_no_app_nor_transfers():
    assert products_of(customer(), [account("credit")], [card("credit")]) == {"credit_card"}


def test_closed_accounts_and_cancelled_cards_are_not_held():
    held = products_of(customer(), [account("current", "closed")], [card("credit", "cancelled")])
    assert held == frozenset()
    assert "debit_card" in products_of(customer(), [], [card("debit", "frozen")])  # frozen is still held


def test_payroll_is_a_posted_salary_credit():
    assert "payroll" in products_of(customer(), [], [], [credit("income", "12000.00")])
    assert "payroll" not in products_of(customer(), [], [], [credit("income", "12000.00", "failed")])
    assert "payroll" not in products_of(customer(), [], [], [credit("dining", "-35.00")])


def test_wealth_is_the_segment_or_the_interests():
    assert "wealth" in products_of(customer(segment="private"), [], [])
    assert "wealth" in products_of(customer(interests=("funds", "travel")), [], [])
    assert "wealth" not in products_of(customer(interests=("travel",)), [], [])


def test_every_product_read_is_one_the_register_knows():
    held = products_of(
        customer(segment="affluent"),
        [account(k) for k in ("savings", "current", "time_deposit", "credit")],
        [card("debit"), card("credit")],
        [credit("income", "9000.00")],
    )
    assert held == set(PRODUCTS)


def test_the_demo_banks_customers_hold_the_products_read_from_the_connector(tmp_path):
    from helixdesk.bank.demo import DemoBankConnector
    from helixdesk.bank.importer import import_bank_file
    from helixdesk.bank.seed import build_demo_bank
    from helixdesk.db.migrate import upgrade_engine
    from helixdesk.db.session import make_engine, make_session_factory, transaction
    from helixdesk.incidents.products import customer_products

    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(12, as_of=now.date(), now=now))
    bank = DemoBankConnector(session_factory=sessions)
    try:
        for i in range(1, 13):
            ref = f"C{i:06d}"
            held = customer_products(bank, ref, now=now)
            # Every demo customer has a savings account with a debit card and is paid through it.
            assert {"savings_account", "debit_card", "mobile_app", "transfer"} <= held, ref
            has_credit = any(c.kind == "credit" for c in bank.list_cards(ref))
            assert ("credit_card" in held) is has_credit
        assert customer_products(bank, "C999999", now=now) == frozenset()
    finally:
        engine.dispose()
