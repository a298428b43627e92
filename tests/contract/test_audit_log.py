"""The audit log on SQLite and PostgreSQL: one valid chain, append-only, and every kind of tampering found."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from helixdesk.audit import Actor, AuditLog, AuditQuery, Target, prune_before, search, verify_chain
from helixdesk.audit.chain import head_mac, row_hash
from helixdesk.audit.errors import AuditChainBrokenError, AuditInvalidError
from helixdesk.audit.models import AuditChainHead, AuditLogRow
from helixdesk.db.session import make_engine, make_session_factory, transaction

KEY = b"contract-audit-key-0123456789abcdef"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def audit():
    return AuditLog(key=KEY, clock=Clock())


def fill(sessions, audit, n: int) -> None:
    for i in range(n):
        with transaction(sessions) as s:
            audit.record(
                s,
                actor=Actor.staff(f"u-{i % 3}", ip="10.0.0.7"),
                action="customer.profile.viewed",
                target=Target.customer(f"C{i % 4:06d}"),
                reason="customer called about a charge",
                details={"fields": ["phone"], "n": i},
            )


@contextmanager
def tampering(engine):
    """Take the append-only triggers off for the test's "attacker" (a DBA-level write)."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        if dialect == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def test_entries_are_chained_and_searchable(sessions, audit):
    fill(sessions, audit, 7)
    with transaction(sessions) as s:
        e = audit.record(
            s,
            actor=Actor.customer("C000009", channel="web"),
            action="identity.verified",
            target=Target.conversation("conv-1"),
            details={"via": "bot", "phone": "13812345678", "note": "card 6222021234567890"},
        )
    assert e.seq == 8 and e.customer_ref == "C000009"  # a customer acting: whose data it is
    assert e.details == {"via": "bot", "phone": "[redacted]", "note": "card ************7890"}
    report = verify_chain(sessions, KEY)
    assert report.ok and report.rows == 8 and report.first_seq == 1 and report.last_seq == 8
    assert report.head_hash == e.hash
    with sessions() as s:
        by_staff = search(s, AuditQuery(actor_kind="staff", actor_id="u-1"))
        assert [x.seq for x in by_staff] == [5, 2]
        about = search(s, AuditQuery(customer_ref="C000001"))
        assert [x.seq for x in about] == [6, 2] and all(x.target.id == "C000001" for x in about)
        prefix = search(s, AuditQuery(action="identity.*"))
        assert [x.action for x in prefix] == ["identity.verified"]
        window = search(s, AuditQuery(since=T0 + timedelta(seconds=3), until=T0 + timedelta(seconds=5)))
        assert [x.seq for x in window] == [4, 3]
        page = search(s, AuditQuery(limit=3, before_seq=6))
        assert [x.seq for x in page] == [5, 4, 3]


def test_bad_entries_are_refused(sessions, audit):
    with transaction(sessions) as s:
        for kwargs in (
            {"action": "Bad Action"},
            {"actor": Actor("robot", "x")},  # type: ignore[arg-type]
            {"target": Target("", "x")},
            {"details": {"x": object()}},
        ):
            args = {
                "actor": Actor.system("test"),
                "action": "test.ok",
                "target": Target("thing", "1"),
                **kwargs,
            }
            with pytest.raises(AuditInvalidError):
                audit.record(s, **args)


def test_rows_cannot_be_updated_or_deleted(engine, sessions, audit):
    fill(sessions, audit, 2)
    for statement in (
        update(AuditLogRow).where(AuditLogRow.seq == 1).values(reason="nothing to see"),
        delete(AuditLogRow).where(AuditLogRow.seq == 2),
    ):
        with pytest.raises(DBAPIError, match="append-only"), transaction(sessions) as s:
            s.execute(statement)
    assert verify_chain(sessions, KEY).ok


def test_an_edited_row_is_named(engine, sessions, audit):
    fill(sessions, audit, 10)
    with tampering(engine) as conn:
        conn.execute(update(AuditLogRow).where(AuditLogRow.seq == 4).values(reason="routine check"))
    report = verify_chain(sessions, KEY, batch=3)
    assert not report.ok and report.bad_seq == 4 and "edited" in report.problem


def test_an_edited_row_with_a_recomputed_plain_hash_is_still_caught(engine, sessions, audit):
    """Without the key, an attacker cannot re-seal an edited row, nor re-chain the rows after it."""
    fill(sessions, audit, 5)
    wrong = AuditLog(key=b"attacker-guess-0123456789abcdefgh")
    with sessions() as s:
        row = s.get(AuditLogRow, 3)
        assert row is not None
        forged = AuditLogRow(**_values(row))
    forged.actor_id = "u-9"
    with tampering(engine) as conn:
        conn.execute(
            update(AuditLogRow)
            .where(AuditLogRow.seq == 3)
            .values(actor_id="u-9", hash=row_hash(wrong.key, forged))
        )
    report = verify_chain(sessions, KEY)
    assert report.bad_seq == 3


def test_a_deleted_row_is_named(engine, sessions, audit):
    fill(sessions, audit, 10)
    with tampering(engine) as conn:
        conn.execute(delete(AuditLogRow).where(AuditLogRow.seq.in_([5, 6])))
    report = verify_chain(sessions, KEY, batch=4)
    assert not report.ok and report.bad_seq == 7 and "5..6" in report.problem


def test_deleting_the_last_rows_is_caught(engine, sessions, audit):
    fill(sessions, audit, 6)
    with tampering(engine) as conn:
        conn.execute(delete(AuditLogRow).where(AuditLogRow.seq >= 5))
    report = verify_chain(sessions, KEY)
    assert report.bad_seq == 5 and "deleted from the end" in report.problem


def test_inserted_rows_are_named(engine, sessions, audit):
    fill(sessions, audit, 6)
    last = None
    with sessions() as s:
        last = s.get(AuditLogRow, 6)
        assert last is not None
        forged = AuditLogRow(**_values(last))
    # Appended at the end, chained to the real last row, sealed with a guessed key.
    forged.seq, forged.prev_hash, forged.reason = 7, last.hash, "made up"
    forged.hash = row_hash(b"guess-guess-guess-guess-guess-12", forged)
    with tampering(engine) as conn:
        conn.execute(AuditLogRow.__table__.insert().values(**_values(forged)))
    assert verify_chain(sessions, KEY).bad_seq == 7

    # Appended with a correct-looking hash but without moving the (MAC-sealed) head.
    with tampering(engine) as conn:
        conn.execute(delete(AuditLogRow).where(AuditLogRow.seq == 7))
        forged.hash = row_hash(KEY, forged)  # even with the key, the head gives it away
        conn.execute(AuditLogRow.__table__.insert().values(**_values(forged)))
    report = verify_chain(sessions, KEY)
    assert report.bad_seq == 7 and "beyond the chain head" in report.problem

    # Inserted in the middle: the rows after it renumbered to make room.
    with tampering(engine) as conn:
        conn.execute(delete(AuditLogRow).where(AuditLogRow.seq == 7))
        for seq in (6, 5, 4):
            conn.execute(update(AuditLogRow).where(AuditLogRow.seq == seq).values(seq=seq + 1))
        forged.seq, forged.reason = 4, "inserted"
        forged.hash = row_hash(b"guess-guess-guess-guess-guess-12", forged)
        conn.execute(AuditLogRow.__table__.insert().values(**_values(forged)))
    assert verify_chain(sessions, KEY).bad_seq == 4


def test_an_edited_head_is_caught(engine, sessions, audit):
    fill(sessions, audit, 3)
    with transaction(sessions) as s:
        s.execute(update(AuditChainHead).values(seq=2, mac=head_mac(b"guess" * 7, 2, "x")))
    assert "MAC" in verify_chain(sessions, KEY).problem


def _values(row: AuditLogRow) -> dict[str, object]:
    return {c.name: getattr(row, c.name) for c in AuditLogRow.__table__.columns}


def test_a_wrong_key_fails_at_the_first_row(sessions, audit):
    fill(sessions, audit, 2)
    report = verify_chain(sessions, b"another-key-0123456789abcdef0123")
    assert report.bad_seq == 1


def test_pruning_removes_a_verified_prefix_and_leaves_a_valid_chain(sessions, audit):
    fill(sessions, audit, 10)  # at T0+1s .. T0+10s
    cutoff = T0 + timedelta(seconds=6, milliseconds=500)
    dry = prune_before(sessions, audit, cutoff, actor=Actor.system("retention"), dry_run=True)
    assert (dry.through_seq, dry.rows) == (6, 6)
    assert verify_chain(sessions, KEY).rows == 10  # a dry run deletes nothing
    done = prune_before(sessions, audit, cutoff, actor=Actor.system("retention"))
    assert (done.through_seq, done.rows) == (6, 6)
    report = verify_chain(sessions, KEY)
    assert report.ok and report.first_seq == 7 and report.last_seq == 11, report
    with sessions() as s:
        pruned = search(s, AuditQuery(action="audit.pruned"))[0]
    assert pruned.details["through_seq"] == 6 and pruned.actor.id == "retention"
    # Again: nothing older is left, nothing happens.
    assert prune_before(sessions, audit, cutoff, actor=Actor.system("retention")).rows == 0


def test_deleting_a_prefix_without_a_prune_entry_is_caught(engine, sessions, audit):
    fill(sessions, audit, 5)
    with tampering(engine) as conn:
        conn.execute(delete(AuditLogRow).where(AuditLogRow.seq <= 2))
    report = verify_chain(sessions, KEY)
    assert report.bad_seq == 3 and "vouches" in report.problem


def test_a_broken_chain_is_never_pruned(engine, sessions, audit):
    fill(sessions, audit, 5)
    with tampering(engine) as conn:
        conn.execute(update(AuditLogRow).where(AuditLogRow.seq == 4).values(reason="x"))
    with pytest.raises(AuditChainBrokenError):
        prune_before(sessions, audit, T0 + timedelta(seconds=3), actor=Actor.system("retention"))
    with sessions() as s:
        assert s.scalar(select(AuditLogRow.seq).order_by(AuditLogRow.seq).limit(1)) == 1


def test_concurrent_appends_from_many_threads_and_engines_keep_one_chain(db_url, audit):
    """Two engines stand for two server processes; eight threads each append at the same time."""
    engines = [make_engine(db_url), make_engine(db_url)]
    factories = [make_session_factory(e) for e in engines]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        factory = factories[i % 2]
        log = AuditLog(key=KEY)
        try:
            barrier.wait()
            for j in range(15):
                with transaction(factory) as s:
                    log.record(
                        s, actor=Actor.bot(), action="action.get_balance", target=Target.customer(f"C{i}{j}")
                    )
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        report = verify_chain(factories[0], KEY)
        assert report.ok and report.rows == 120 and report.last_seq == 120
    finally:
        for e in engines:
            e.dispose()
