"""The bank's monthly history on SQLite and on PostgreSQL: imported with the bank file, read back
through the connector (newest months, oldest first) and in bulk for training."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from helixdesk.bank.connector import MonthlyActivity
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.models import BankCustomer, BankMonthlyActivity
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import reading, transaction
from helixdesk.lifecycle.data import bank_histories, months_of

AS_OF = date(2026, 11, 23)


@pytest.fixture
def bank_file():
    return build_demo_bank(30, as_of=AS_OF)


@pytest.fixture
def bank(sessions, bank_file):
    with transaction(sessions) as s:
        summary = import_bank_file(s, bank_file)
    assert summary.monthly_activity == sum(len(c.monthly_activity) for c in bank_file.customers) > 30 * 12
    return DemoBankConnector(session_factory=sessions)


def _expected(customer) -> list[MonthlyActivity]:
    return [MonthlyActivity(**m.model_dump()) for m in customer.monthly_activity]


def test_the_connector_returns_the_imported_months_oldest_first(bank, bank_file):
    for customer in bank_file.customers[:10]:
        months = bank.monthly_activity(customer.ref)
        assert months == _expected(customer)[-24:]
        assert [m.month for m in months] == sorted(m.month for m in months)
    first = bank_file.customers[0]
    assert bank.monthly_activity(first.ref, months=3) == _expected(first)[-3:]
    assert bank.monthly_activity(first.ref, months=0) == []
    assert bank.monthly_activity("C999999") == []


def test_every_history_reads_back_in_bulk(sessions, bank, bank_file):
    histories = bank_histories(sessions, today=AS_OF)
    assert [h.ref for h in histories] == sorted(c.ref for c in bank_file.customers)
    by_ref = {c.ref: c for c in bank_file.customers}
    for h in histories:
        assert list(h.months) == _expected(by_ref[h.ref])
        assert h.as_of == date(2026, 11, 1)


def test_a_month_is_stored_once_per_customer_and_goes_with_the_customer(sessions, bank):
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        customer_id = s.scalar(select(BankCustomer.id).where(BankCustomer.ref == "C000001"))
        month = s.scalar(
            select(BankMonthlyActivity).where(BankMonthlyActivity.customer_id == customer_id).limit(1)
        )
        assert month is not None
        s.add(
            BankMonthlyActivity(
                customer_id=customer_id,
                month=month.month,
                balance_minor=0,
                transactions=0,
                card_spend_minor=0,
                payroll=False,
                remittances=0,
                products_held=0,
                products_opened=0,
                products_closed=0,
                logins=0,
            )
        )
    with transaction(sessions) as s:
        s.execute(delete(BankCustomer).where(BankCustomer.ref == "C000002"))
    with sessions() as s:
        left = s.scalar(
            select(func.count())
            .select_from(BankMonthlyActivity)
            .join(BankCustomer, BankMonthlyActivity.customer_id == BankCustomer.id, isouter=True)
            .where(BankCustomer.id.is_(None))
        )
    assert left == 0


def test_the_months_of_some_customers_read_in_one_query_per_chunk(sessions, bank, bank_file):
    refs = [c.ref for c in bank_file.customers[:7]]
    with reading(sessions) as s:
        found = months_of(s, [*refs, "C999999", refs[0]], chunk=3)
    assert set(found) == set(refs)
    by_ref = {c.ref: c for c in bank_file.customers}
    for ref in refs:
        assert found[ref] == _expected(by_ref[ref])
