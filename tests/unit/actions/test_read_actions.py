"""Read actions on the seeded demo bank: balance, transactions, explain, trace, statement, quote, rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from helixdesk.actions.base import InvalidParamsError, UnknownActionError
from helixdesk.actions.credit import PrepaymentQuote
from helixdesk.actions.models import ActionAudit
from helixdesk.actions.rates import RateService
from helixdesk.core.errors import AppError

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # the runner's clock (conftest.py)


def _run(runner, name, customer, **params):
    return runner.run(name, customer_ref=customer, params=params, conversation_id="conv-1")


def test_every_taxonomy_action_is_registered(runner):
    names = {
        "get_balance",
        "list_transactions",
        "explain_transaction",
        "freeze_card",
        "trace_transfer",
        "get_statement",
        "quote_installment_prepayment",
        "get_exchange_rate",
        "open_dispute",
        "request_card_reissue",
        "get_refund_status",
    }
    assert set(runner.actions) == names
    changing = {n for n, spec in runner.actions.items() if spec.changes_state}
    assert changing == {"freeze_card", "request_card_reissue", "open_dispute"}


def test_balance_per_account_and_by_tail(runner, bank):
    accounts = bank.list_accounts("C000001")
    out = _run(runner, "get_balance", "C000001")
    assert [a.number for a in out.accounts] == [a.number for a in accounts]
    assert [a.balance for a in out.accounts] == [a.balance for a in accounts]
    one = _run(runner, "get_balance", "C000001", account_tail=accounts[0].number[-4:])
    assert [a.number for a in one.accounts] == [accounts[0].number]
    card = bank.list_cards("C000001")[0]
    by_card = _run(runner, "get_balance", "C000001", account_tail=card.last4)
    assert by_card.accounts[0].number == card.account_number
    tails = {a.number[-4:] for a in accounts} | {c.last4 for c in bank.list_cards("C000001")}
    missing = next(f"{n:04d}" for n in range(10000) if f"{n:04d}" not in tails)
    with pytest.raises(AppError) as e:
        _run(runner, "get_balance", "C000001", account_tail=missing)
    assert e.value.code == "account_not_found"


def test_transactions_in_a_period(runner, bank, policies):
    tz = policies.bank.tz
    out = _run(runner, "list_transactions", "C000002", since="2026-11-01", until="2026-11-15", limit=200)
    expected = [
        t.ref
        for t in bank.list_transactions("C000002", limit=1000)
        if "2026-11-01" <= t.occurred_at.astimezone(tz).date().isoformat() <= "2026-11-15"
    ]
    assert [t.ref for t in out.transactions] == expected
    assert out.count == len(expected) and not out.truncated
    limited = _run(runner, "list_transactions", "C000002", limit=2)
    assert len(limited.transactions) == 2 and limited.truncated
    debits = _run(runner, "list_transactions", "C000002", direction="debit", limit=200)
    assert all(t.amount < 0 for t in debits.transactions)
    with pytest.raises(InvalidParamsError):
        _run(runner, "list_transactions", "C000002", since="2026-11-15", until="2026-11-01")


def _seeded_duplicate(bank, customers):
    for ref in customers:
        for t in bank.list_transactions(ref, limit=1000):
            if t.ref.endswith("D") and t.status == "posted":
                return ref, t
    pytest.fail("the seed makes duplicate charges for some customers")


def test_explain_finds_the_charge_from_hints_and_flags_the_duplicate(runner, bank, customers, policies):
    ref, dup = _seeded_duplicate(bank, customers)
    day = dup.occurred_at.astimezone(policies.bank.tz).date()
    # a piece of the merchant name, in whatever script it is written
    hint = dup.merchant.split()[0][:3]
    out = _run(
        runner, "explain_transaction", ref, amount=str(-dup.amount), date=day.isoformat(), merchant=hint
    )
    best = out.matches[0]
    assert best.transaction.ref == dup.ref
    assert best.transaction.merchant == dup.merchant
    assert best.transaction.channel == dup.channel
    assert best.transaction.amount == dup.amount
    assert best.duplicate_of == dup.ref[:-1]
    assert set(best.matched_on) >= {"amount", "date", "merchant"}
    assert out.next_steps[0] == "open_dispute" and "human_agent" in out.next_steps
    original = next(m for m in out.matches if m.transaction.ref == dup.ref[:-1])
    assert original.duplicate_of is None


def test_explain_chinese_merchant_substring(runner, bank, customers):
    for ref in customers:
        chinese = [t for t in bank.list_transactions(ref, limit=1000) if t.merchant == "美团外卖"]
        if chinese:
            break
    else:
        pytest.fail("the seed has 美团外卖 charges")
    t = chinese[0]
    out = _run(runner, "explain_transaction", ref, merchant="美团", amount=str(t.amount))
    assert out.matches[0].transaction.ref == t.ref
    assert "merchant" in out.matches[0].matched_on


def test_explain_errors(runner):
    with pytest.raises(InvalidParamsError) as e:
        _run(runner, "explain_transaction", "C000001")
    assert e.value.code == "hint_required"
    with pytest.raises(AppError) as e:
        _run(runner, "explain_transaction", "C000001", amount="987654.32", merchant="无此商户")
    assert e.value.code == "no_matching_transaction"


def test_trace_failed_transfer(runner, bank, customers):
    found = [(r, t) for r in customers for t in bank.list_transfers(r) if t.status in ("failed", "returned")]
    assert found, "the seed makes failed and returned transfers"
    ref, t = found[0]
    out = _run(runner, "trace_transfer", ref, amount=str(t.amount), payee=t.payee_name)
    trace = out.transfers[0]
    assert trace.ref == t.ref and trace.status == t.status
    assert trace.failure_reason == t.failure_reason
    assert trace.failure_code in (
        "payee_name_mismatch",
        "receiving_bank_unavailable",
        "transfer_limit_exceeded",
        "payee_account_closed",
    )
    assert trace.funds == ("returned_to_account" if t.status == "returned" else "not_debited")
    assert trace.next_steps and trace.expected_arrival == t.expected_arrival
    with pytest.raises(AppError) as e:
        _run(runner, "trace_transfer", ref, amount="0.01", payee="没有这个人")
    assert e.value.code == "no_matching_transfer"


def test_trace_pending_transfer_waits_or_hands_over(runner, bank, customers):
    pending = [(r, t) for r in customers for t in bank.list_transfers(r) if t.status == "pending"]
    assert pending
    ref, t = pending[0]
    trace = _run(runner, "trace_transfer", ref, ref=t.ref).transfers[0]
    assert trace.funds == "in_transit"
    assert trace.overdue == (t.expected_arrival is not None and t.expected_arrival < NOW)
    assert trace.next_steps == (("human_agent",) if trace.overdue else ("wait_until_expected_arrival",))


def test_statement(runner, bank, customers):
    ref = next(r for r in customers if bank.list_statements(r))
    latest = bank.list_statements(ref, limit=1)[0]
    out = _run(runner, "get_statement", ref)
    assert (out.due_date, out.minimum_payment, out.amount_due) == (
        latest.due_date,
        latest.minimum_payment,
        latest.amount_due,
    )
    assert out.outstanding == latest.amount_due - latest.paid
    assert out.days_until_due == (latest.due_date - NOW.date()).days
    no_card = next((r for r in customers if not bank.list_statements(r)), None)
    if no_card is not None:
        with pytest.raises(AppError) as e:
            _run(runner, "get_statement", no_card)
        assert e.value.code == "statement_not_found"


def test_quote_uses_the_customers_actual_plan(runner, bank, customers):
    ref, plan = next(
        (r, p) for r in customers for p in bank.list_installment_plans(r) if p.status == "active"
    )
    out = _run(runner, "quote_installment_prepayment", ref, plan_ref=plan.ref)
    (quote,) = out.quotes
    assert isinstance(quote, PrepaymentQuote)
    assert (quote.principal, quote.periods, quote.periods_paid) == (
        plan.principal,
        plan.periods,
        plan.periods_paid,
    )
    per = (plan.principal / plan.periods).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    remaining = plan.principal - per * plan.periods_paid
    fee = (plan.principal * plan.fee_rate_per_period * (plan.periods - plan.periods_paid)).quantize(
        Decimal("0.01"), rounding="ROUND_HALF_UP"
    )
    assert quote.remaining_principal == remaining
    assert quote.fee == fee  # the pack's example policy: remaining_fees
    assert quote.total_to_pay == remaining + fee
    assert quote.effective_date == NOW.date() + timedelta(days=1)  # Monday -> Tuesday
    assert "example" in quote.policy_label.lower()
    with pytest.raises(AppError) as e:
        _run(runner, "quote_installment_prepayment", ref, plan_ref="IPNONE")
    assert e.value.code == "plan_not_found"


def test_exchange_rate_converts_exactly_and_reports_staleness(runner, bank_sessions):
    rates = RateService(sessions=bank_sessions)
    rates.set("USD", buy="7.1012", sell="7.1308", as_of=NOW - timedelta(hours=2), source="t", updated_by="t")
    out = _run(runner, "get_exchange_rate", None, currency="usd", amount="123.45")
    assert out.base_if_customer_sells == Decimal("876.64")  # 123.45 x 7.1012 = 876.643140
    assert out.base_if_customer_buys == Decimal("880.30")  # 123.45 x 7.1308 = 880.297260
    assert out.as_of == NOW - timedelta(hours=2) and not out.stale
    rates.set("EUR", buy="7.6", sell="7.7", as_of=NOW - timedelta(days=3), source="t", updated_by="t")
    assert _run(runner, "get_exchange_rate", None, currency="EUR").stale
    with pytest.raises(AppError) as e:
        _run(runner, "get_exchange_rate", None, currency="CHF")
    assert e.value.code == "unknown_currency"


def test_every_run_is_audited(runner, bank_sessions):
    _run(runner, "get_balance", "C000001")
    with pytest.raises(UnknownActionError):
        _run(runner, "no_such_action", "C000001")
    with pytest.raises(AppError) as e:
        _run(runner, "get_balance", "C999999")
    assert e.value.code == "customer_not_found"
    with pytest.raises(InvalidParamsError):
        _run(runner, "get_balance", "C000001", account_tail="12")
    with bank_sessions() as s:
        rows = s.scalars(select(ActionAudit).order_by(ActionAudit.id)).all()
    assert [(r.action, r.status, r.error_code) for r in rows] == [
        ("get_balance", "ok", None),
        ("no_such_action", "failed", "unknown_action"),
        ("get_balance", "failed", "customer_not_found"),
        ("get_balance", "failed", "invalid_params"),
    ]
    assert all(r.actor == "bot" and r.conversation_id == "conv-1" and r.at == NOW for r in rows)
    assert rows[3].input_json == '{"account_tail": "12"}'
