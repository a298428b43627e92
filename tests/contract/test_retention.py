"""Retention on SQLite and PostgreSQL: expired data goes, recent data stays, a second run does nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from helixdesk.audit import AuditLog, AuditQuery, search, verify_chain
from helixdesk.conversations.models import Conversation, Customer, Message
from helixdesk.retention import ANONYMOUS_CUSTOMER_ID, RetentionJob, RetentionPolicy
from tests.personal_data import add_conversation, cells_mentioning, seed, table_counts

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KEY = b"retention-audit-key-0123456789abcdef"
POLICY = RetentionPolicy(
    days={
        "nlu": 30,
        "conversations": 365,
        "dialogue_state": 30,
        "verification": 30,
        "outbox": 7,
        "action_records": 365,
        "audit": 0,
    }
)


def job(sessions, audit, policy=POLICY):
    return RetentionJob(sessions=sessions, audit=audit, policy=policy, batch_size=2, clock=lambda: NOW)


def test_expired_data_is_removed_and_recent_data_kept(engine, sessions):
    audit = AuditLog(key=KEY)
    old = seed(sessions, audit, "C000001", marker="old-secret", at=NOW - timedelta(days=400))
    recent = seed(sessions, audit, "C000002", marker="recent-talk", at=NOW - timedelta(days=1))
    with sessions.begin() as s:  # a second, 60-day-old conversation of the recent customer
        middle = add_conversation(s, recent["customer_id"], marker="middle-talk", at=NOW - timedelta(days=60))
    before = table_counts(engine)

    dry = job(sessions, audit).run(dry_run=True)
    assert {r.data_class: r.counts for r in dry.results}["conversations"] == {"conversations": 1}
    assert {r.data_class: r.counts for r in dry.results}["nlu"] == {"conversations": 2}
    assert table_counts(engine)["messages"] == before["messages"]
    assert cells_mentioning(engine, ["old-secret"])  # a dry run changes nothing

    report = job(sessions, audit).run()
    counts = {r.data_class: r.counts for r in report.results}
    assert counts["conversations"]["conversations"] == 1 and counts["conversations"]["messages"] == 3
    assert counts["conversations"]["customers"] == 1  # C000001 has nothing left
    assert counts["outbox"] == {"notifications": 1}
    assert counts["audit"] == {}
    # Nothing of the old customer is left outside the audit log and the dispute record ...
    assert cells_mentioning(engine, ["old-secret", "C000001", old["customer_id"]]) == []
    with sessions() as s:
        conv = s.get(Conversation, old["conversation_id"])
        assert conv is not None and conv.customer_id == ANONYMOUS_CUSTOMER_ID and conv.state == "closed"
        kept = s.scalars(
            select(Message).where(Message.conversation_id == conv.id).order_by(Message.seq)
        ).all()
        # ... but the anonymised conversation still counts for analytics: messages, senders, intents.
        assert [m.sender for m in kept] == ["customer", "bot", "customer"] and conv.last_seq == 3
        assert all(m.text == "" for m in kept)
        assert kept[0].meta["nlu"]["intent"] == {"name": "card_lost", "confidence": 0.93}
        assert kept[0].meta["nlu"]["emotion"]["label"] == "fear" and kept[1].meta == {"kind": "answer"}
        # The 60-day-old conversation keeps its text; its NLU record is cut down.
        mid = s.scalars(select(Message).where(Message.conversation_id == middle, Message.seq == 1)).one()
        assert mid.text == "middle-talk message 1"
        assert set(mid.meta["nlu"]) == {"language", "intent", "emotion", "risk", "reduced"}
        # The recent conversation is untouched.
        new = s.scalars(select(Message).where(Message.conversation_id == recent["conversation_id"])).first()
        assert new is not None and "entities" in new.meta["nlu"]
        assert s.scalar(select(Customer).where(Customer.bank_ref == "C000002")) is not None
    assert cells_mentioning(engine, ["recent-talk"])

    again = job(sessions, audit).run()
    assert all(not any(r.counts.values()) for r in again.results), again
    with sessions() as s:
        runs = search(s, AuditQuery(action="retention.run"))
    assert [r.details["dry_run"] for r in runs] == [False, False, True]
    assert verify_chain(sessions, KEY).ok


def test_audit_entries_are_pruned_only_as_a_verified_prefix(sessions):
    clock_at = [NOW - timedelta(days=800)]
    audit = AuditLog(key=KEY, clock=lambda: clock_at[0])
    seed(sessions, audit, "C000001", marker="a", at=NOW - timedelta(days=800))
    clock_at[0] = NOW
    seed(sessions, audit, "C000002", marker="b", at=NOW)
    policy = RetentionPolicy(days={**POLICY.days, "audit": 730})
    report = job(sessions, audit, policy).run()
    assert {r.data_class: r.counts for r in report.results}["audit"] == {"audit_entries": 1}
    chain = verify_chain(sessions, KEY)
    assert chain.ok and chain.first_seq == 2
