"""The current bill is the latest issued statement; the cycle not yet billed is spending so far.
Conversions from CNY into a foreign currency at the rate of the customer's side."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from helixdesk.actions.rates import DEMO_RATES, RateService
from helixdesk.bank.models import BankCard, BankCustomer, BankStatement
from helixdesk.db.session import transaction
from tests.unit.actions.conftest import NOW

TODAY = date(2026, 11, 23)  # NOW in Shanghai


def _run(runner, name, customer, **params):
    return runner.run(name, customer_ref=customer, params=params, conversation_id="conv-1")


def _with_statement(bank, customers):
    return next(r for r in customers if bank.list_statements(r))


def test_the_current_bill_is_the_latest_issued_statement_and_the_cycle_is_spending_so_far(
    runner, bank, customers, policies
):
    ref = _with_statement(bank, customers)
    latest = bank.list_statements(ref, limit=1)[0]
    assert latest.statement_date <= TODAY  # the demo bank seeds no statement before its date
    out = _run(runner, "get_statement", ref)
    assert out.issued and out.statement_date == latest.statement_date
    assert out.amount_due == latest.amount_due
    assert out.cycle_since == latest.statement_date + timedelta(days=1)
    tz = policies.bank.tz
    spent = [
        t
        for t in bank.list_transactions(ref, limit=5000)
        if t.card_last4 == latest.card_last4
        and t.amount < 0
        and t.status not in ("failed", "reversed")
        and t.currency == latest.currency
        and t.occurred_at.astimezone(tz).date() > latest.statement_date
    ]
    assert out.cycle_spending == sum((-t.amount for t in spent), Decimal(0))
    assert out.cycle_count == len(spent)
    assert out.next_statement_date is not None and out.next_statement_date > TODAY


def test_a_statement_dated_after_today_is_not_presented_as_the_bill(runner, bank, bank_sessions, customers):
    ref = _with_statement(bank, customers)
    latest = bank.list_statements(ref, limit=1)[0]
    coming = TODAY + timedelta(days=12)
    with transaction(bank_sessions) as s:
        card_id = s.scalar(
            select(BankCard.id)
            .join(BankCustomer, BankCard.customer_id == BankCustomer.id)
            .where(BankCustomer.ref == ref, BankCard.last4 == latest.card_last4)
        )
        s.add(
            BankStatement(
                card_id=card_id,
                period=coming.strftime("%Y-%m"),
                statement_date=coming,
                due_date=coming + timedelta(days=20),
                amount_due_minor=123456,
                minimum_payment_minor=12346,
                paid_minor=0,
                currency="CNY",
            )
        )
    out = _run(runner, "get_statement", ref)
    assert out.statement_date == latest.statement_date  # the issued one, not the coming one
    assert out.amount_due == latest.amount_due and out.amount_due != Decimal("1234.56")
    assert out.next_statement_date == coming


def test_a_card_without_an_issued_statement_reports_only_the_cycle(runner, bank, bank_sessions, customers):
    ref = _with_statement(bank, customers)
    with transaction(bank_sessions) as s:
        ids = s.scalars(
            select(BankStatement.id)
            .join(BankCard, BankStatement.card_id == BankCard.id)
            .join(BankCustomer, BankCard.customer_id == BankCustomer.id)
            .where(BankCustomer.ref == ref)
        ).all()
        for statement in s.scalars(select(BankStatement).where(BankStatement.id.in_(ids))):
            statement.statement_date = TODAY + timedelta(days=3)
            statement.period = f"X{statement.id}"[:7]
    out = _run(runner, "get_statement", ref)
    assert not out.issued and out.amount_due is None and out.status is None
    assert out.next_statement_date == TODAY + timedelta(days=3)
    assert out.cycle_since == date(2026, 10, 27)  # the day after the 26th of the month before


def test_the_demo_bank_seeds_only_issued_statements_early_in_the_month():
    from helixdesk.bank.seed import build_demo_bank

    early = date(2026, 12, 3)  # before the 5th, the statement day
    bank_file = build_demo_bank(20, as_of=early)
    dates = [
        st.statement_date
        for c in bank_file.customers
        for a in c.accounts
        for card in a.cards
        for st in card.statements
    ]
    assert dates and max(dates) == date(2026, 11, 5)


# --- conversions from CNY -------------------------------------------------------------------------


@pytest.fixture
def rates(runner, bank_sessions):
    RateService(sessions=bank_sessions).seed_demo(as_of=NOW - timedelta(hours=1))


@pytest.mark.parametrize("currency", ["USD", "HKD", "JPY", "EUR"])
def test_cny_is_converted_into_the_foreign_currency_at_the_side_the_customer_is_on(runner, rates, currency):
    buy, sell = (Decimal(x) for x in DEMO_RATES[currency])
    out = _run(runner, "get_exchange_rate", None, currency=currency, base_amount="10000")
    step = Decimal(1) if currency == "JPY" else Decimal("0.01")
    # Buying the foreign currency: the bank sells it, at its sell rate.
    assert out.foreign_if_customer_buys == (Decimal(10000) / sell).quantize(step, ROUND_HALF_UP)
    # Receiving 10,000 CNY by selling it: the bank buys, at its buy rate.
    assert out.foreign_if_customer_sells == (Decimal(10000) / buy).quantize(step, ROUND_HALF_UP)
    assert out.step == step and out.amount is None and out.base_if_customer_buys is None


def test_usd_for_ten_thousand_yuan_by_hand(runner, rates):
    out = _run(runner, "get_exchange_rate", None, currency="USD", base_amount="10000")
    assert out.foreign_if_customer_buys == Decimal("1402.37")  # 10000 / 7.1308 = 1402.3672...
    assert out.foreign_if_customer_sells == Decimal("1408.21")  # 10000 / 7.1012 = 1408.2127...
    both = _run(runner, "get_exchange_rate", None, currency="HKD", amount="5000", base_amount="5000")
    assert both.base_if_customer_buys == Decimal("4577.00")  # 5000 x 0.9154
    assert both.foreign_if_customer_buys == Decimal("5462.09")  # 5000 / 0.9154 = 5462.0930...
