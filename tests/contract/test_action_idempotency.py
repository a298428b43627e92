"""State-changing actions under concurrent calls, on SQLite and PostgreSQL: one change per key."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from helixdesk.actions.models import ActionAudit, ActionIdempotency, Dispute
from helixdesk.actions.policies import load_action_policies
from helixdesk.actions.runner import ActionRunner
from helixdesk.audit import AuditLog
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.core.errors import AppError
from helixdesk.db.session import transaction
from helixdesk.packs.loader import load_pack

AS_OF = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def _runner(sessions):
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(20, as_of=AS_OF))
    bank = DemoBankConnector(session_factory=sessions)
    policies = load_action_policies(load_pack("retail_bank"))
    return bank, ActionRunner(
        bank=bank, sessions=sessions, policies=policies, audit=AuditLog(key=b"k" * 32), clock=lambda: NOW
    )


def _together(n, call):
    """Run `call(i)` in n threads released at the same moment; results (or errors) by index."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except AppError as e:
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_concurrent_reissues_with_one_key_make_one_card(sessions):
    bank, runner = _runner(sessions)
    ref, card = next((r, c) for r in (f"C{i:06d}" for i in range(1, 21)) for c in bank.list_cards(r))
    bank.set_card_status(ref, card.last4, "frozen")
    before = len(bank.list_cards(ref))

    def call(_i: int) -> object:
        return runner.run(
            "request_card_reissue",
            customer_ref=ref,
            params={"card_last4": card.last4},
            conversation_id="c",
            confirmed=True,
            idempotency_key="reissue-1",
        )

    a, b = _together(2, call)
    assert not isinstance(a, AppError) and not isinstance(b, AppError), (a, b)
    assert a == b
    assert len(bank.list_cards(ref)) == before + 1
    with sessions() as s:
        assert sorted(s.scalars(select(ActionAudit.status)).all()) == ["ok", "replayed"]
        assert s.scalar(select(func.count()).select_from(ActionIdempotency)) == 1


def test_concurrent_disputes_on_one_charge_make_one_dispute_and_one_credit(sessions):
    bank, runner = _runner(sessions)
    ref, dup = next(
        (r, t)
        for r in (f"C{i:06d}" for i in range(1, 21))
        for t in bank.list_transactions(r, limit=1000)
        if t.ref.endswith("D")
    )

    def call(i: int) -> object:
        return runner.run(
            "open_dispute",
            customer_ref=ref,
            params={"reason": "duplicate_charge", "transaction_ref": dup.ref},
            conversation_id="c",
            confirmed=True,
            idempotency_key=f"dispute-{i}",  # different keys: the (customer, transaction) rule holds
        )

    results = _together(3, call)
    assert not any(isinstance(r, AppError) for r in results), results
    assert len({r.dispute_ref for r in results}) == 1  # type: ignore[union-attr]
    assert len({r.status for r in results}) == 1  # type: ignore[union-attr]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Dispute)) == 1
    credits = [t for t in bank.list_transactions(ref, limit=1000) if t.category == "refund"]
    assert len(credits) <= 1
    assert len(credits) == (1 if results[0].status == "approved" else 0)  # type: ignore[union-attr]
