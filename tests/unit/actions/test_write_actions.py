"""State-changing actions: confirmation, idempotency keys, freeze/reissue, disputes and refunds."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from helixdesk.actions.base import ConfirmationRequiredError, IdempotencyKeyReusedError
from helixdesk.actions.models import ActionAudit, Dispute
from helixdesk.core.errors import AppError


def _run(runner, name, customer, *, key=None, confirmed=True, **params):
    return runner.run(
        name,
        customer_ref=customer,
        params=params,
        conversation_id="conv-9",
        confirmed=confirmed,
        idempotency_key=key,
    )


def _active_card(bank, customers):
    for ref in customers:
        for c in bank.list_cards(ref):
            if c.status == "active":
                return ref, c
    pytest.fail("the seed has active cards")


def test_freeze_needs_confirmation_and_changes_nothing_without_it(runner, bank, customers, bank_sessions):
    ref, card = _active_card(bank, customers)
    with pytest.raises(ConfirmationRequiredError) as e:
        _run(runner, "freeze_card", ref, confirmed=False, card_last4=card.last4, reason="lost")
    assert e.value.code == "confirmation_required"
    assert next(c for c in bank.list_cards(ref) if c.last4 == card.last4).status == "active"
    out = _run(runner, "freeze_card", ref, key="k-freeze", card_last4=card.last4, reason="stolen")
    assert (out.previous_status, out.status, out.changed) == ("active", "frozen", True)
    assert out.route == "fraud" and "request_card_reissue" in out.next_steps
    assert next(c for c in bank.list_cards(ref) if c.last4 == card.last4).status == "frozen"
    again = _run(runner, "freeze_card", ref, key="k-freeze", card_last4=card.last4, reason="stolen")
    assert again == out  # the first result, replayed
    with bank_sessions() as s:
        statuses = s.scalars(select(ActionAudit.status).order_by(ActionAudit.id)).all()
    assert statuses == ["failed", "ok", "replayed"]


def test_same_key_other_input_is_refused(runner, bank, customers):
    ref, card = _active_card(bank, customers)
    _run(runner, "freeze_card", ref, key="k-1", card_last4=card.last4, reason="lost")
    with pytest.raises(IdempotencyKeyReusedError):
        _run(runner, "freeze_card", ref, key="k-1", card_last4=card.last4, reason="fraud")


def test_reissue_after_freeze(runner, bank, customers):
    ref, card = _active_card(bank, customers)
    with pytest.raises(AppError) as e:
        _run(runner, "request_card_reissue", ref, card_last4=card.last4)
    assert e.value.code == "card_not_frozen"
    _run(runner, "freeze_card", ref, card_last4=card.last4, reason="lost")
    out = _run(runner, "request_card_reissue", ref, key="k-re", card_last4=card.last4)
    cards = {c.last4: c for c in bank.list_cards(ref)}
    assert cards[card.last4].status == "cancelled"
    assert cards[out.new_card_last4].status == "inactive" == out.new_card_status
    assert out.new_card_last4 != card.last4
    assert (
        out.expected_delivery
        > runner.run("get_balance", customer_ref=ref, params={}, conversation_id=None).as_of.date()
    )
    assert _run(runner, "request_card_reissue", ref, key="k-re", card_last4=card.last4) == out
    assert len(bank.list_cards(ref)) == len(cards)


def _duplicate(bank, customers, max_amount=Decimal("2000.00")):
    for ref in customers:
        for t in bank.list_transactions(ref, limit=1000):
            if t.ref.endswith("D") and t.status == "posted" and -t.amount <= max_amount:
                return ref, t
    pytest.fail("the seed makes duplicate charges")


def test_duplicate_charge_is_approved_by_rule_and_refunded_once(runner, bank, customers, bank_sessions):
    ref, dup = _duplicate(bank, customers)
    account = next(a for a in bank.list_accounts(ref) if a.number == dup.account_number)
    out = _run(runner, "open_dispute", ref, key="d-1", reason="duplicate_charge", transaction_ref=dup.ref)
    assert out.duplicate_of == dup.ref[:-1]
    assert (out.status, out.decided_by, out.rule) == ("approved", "rule", "duplicate_charge_24h")
    credit = next(t for t in bank.list_transactions(ref, limit=1000) if t.ref == out.refund_transaction_ref)
    assert credit.amount == -dup.amount and credit.merchant == dup.merchant
    after = next(a for a in bank.list_accounts(ref) if a.number == dup.account_number)
    expected = account.balance + (credit.amount if credit.currency == account.currency else 0)
    assert after.balance == expected
    # Opening it again (another key) returns the same dispute and posts nothing.
    again = _run(runner, "open_dispute", ref, key="d-2", reason="duplicate_charge", transaction_ref=dup.ref)
    assert again.dispute_ref == out.dispute_ref and again.already_open
    refunds = [t for t in bank.list_transactions(ref, limit=1000) if t.category == "refund"]
    assert [t.ref for t in refunds] == [out.refund_transaction_ref]
    status = _run(runner, "get_refund_status", ref, merchant=dup.merchant)
    assert status.found and status.refunds[0].dispute_ref == out.dispute_ref
    assert status.refunds[0].source == "dispute"


def test_other_disputes_go_to_a_queue(runner, bank, customers):
    ref = customers[0]
    charges = [t for t in bank.list_transactions(ref, limit=1000) if t.amount < 0 and t.status == "posted"]
    first, second = charges[0], charges[1]
    out = _run(runner, "open_dispute", ref, reason="not_received", transaction_ref=first.ref)
    assert (out.status, out.decided_by, out.refund_transaction_ref) == ("pending_review", None, None)
    assert out.route == ("senior" if -first.amount > Decimal("20000") else "general")
    fraud = _run(runner, "open_dispute", ref, reason="unrecognised", transaction_ref=second.ref)
    assert fraud.route == "fraud"
    status = _run(runner, "get_refund_status", ref, merchant=first.merchant)
    assert not status.found
    assert status.next_steps == ("dispute_under_review",)
    with pytest.raises(ConfirmationRequiredError):
        _run(runner, "open_dispute", ref, confirmed=False, reason="other", transaction_ref=first.ref)


def test_refund_status_none_found(runner, customers):
    out = _run(runner, "get_refund_status", customers[0], merchant="没有这个商户")
    assert not out.found and out.refunds == () and out.disputes == ()
    assert out.next_steps == ("allow_merchant_processing_time", "open_dispute")


def test_dispute_from_hints_must_be_unambiguous(runner, bank, customers, bank_sessions):
    ref, dup = _duplicate(bank, customers)
    # Amount and merchant match both the original and the duplicate equally: for any reason but a
    # duplicate charge, the bot cannot tell which one the customer means.
    with pytest.raises(AppError) as e:
        _run(
            runner, "open_dispute", ref, reason="not_received", amount=str(-dup.amount), merchant=dup.merchant
        )
    assert e.value.code == "transaction_ambiguous"
    with bank_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Dispute)) == 0


def test_charged_twice_from_hints_disputes_the_repeat_and_the_rule_refunds_it(runner, bank, customers):
    ref, dup = _duplicate(bank, customers)
    # "Charged twice, same amount": both charges match the hints; they are one duplicate pair.
    out = _run(
        runner, "open_dispute", ref, reason="duplicate_charge", amount=str(-dup.amount), merchant=dup.merchant
    )
    assert out.transaction.ref == dup.ref and out.duplicate_of == dup.ref[:-1]
    assert (out.status, out.rule) == ("approved", "duplicate_charge_24h")
    refunds = [t for t in bank.list_transactions(ref, limit=1000) if t.ref == out.refund_transaction_ref]
    assert len(refunds) == 1 and refunds[0].amount == -dup.amount
    # The first charge stands: disputing it as a duplicate is not possible (it repeats nothing).
    first = next(t for t in bank.list_transactions(ref, limit=1000) if t.ref == dup.ref[:-1])
    assert first.amount == dup.amount


def test_a_duplicate_pair_is_only_identical_charges_close_in_time(bank, customers):
    from datetime import timedelta

    from helixdesk.actions.disputes import duplicate_pair

    _, dup = _duplicate(bank, customers)
    first = replace(dup, ref=dup.ref[:-1], occurred_at=dup.occurred_at - timedelta(minutes=2))
    assert duplicate_pair([first, dup], within_hours=24) == dup
    late = replace(dup, occurred_at=first.occurred_at + timedelta(hours=30))
    assert duplicate_pair([first, late], within_hours=24) is None
    other_amount = replace(dup, amount=dup.amount - 1)
    assert duplicate_pair([first, other_amount], within_hours=24) is None
    other_card = replace(dup, card_last4="0000" if dup.card_last4 != "0000" else "1111")
    assert duplicate_pair([first, other_card], within_hours=24) is None
