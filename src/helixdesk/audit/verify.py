"""Walking the chain (`helixdesk audit verify`) and pruning a verified prefix (retention).

`verify_chain` reads every row in `seq` order, in short read transactions of `batch` rows (so it
never holds up writers for long), and stops at the first row that breaks the chain:

- its hash does not match its content: the row was edited, or forged without the key;
- its `seq` is not the previous one plus one: rows were deleted before it;
- its `prev_hash` is not the previous row's hash: rows were inserted or replaced before it;
- the first row is not `seq` 1 with the genesis hash, and no `audit.pruned` entry later in the
  chain vouches for the rows before it: the start of the chain was deleted;
- the chain head (`audit_chain_head`, which every append moves in the same transaction) does not
  carry a valid MAC, names a row that is missing (rows deleted from the end) or lies behind a row
  that exists (a row appended without the key's head update: inserted).

`prune_before` deletes rows up to a `seq` only after the whole chain verifies, and records an
`audit.pruned` entry naming the last deleted row and its hash: the anchor of the new first row.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit.chain import GENESIS, head_mac, row_hash
from helixdesk.audit.errors import AuditChainBrokenError
from helixdesk.audit.models import AuditChainHead, AuditLogRow, AuditPrunePermit
from helixdesk.audit.service import HEAD_ID, Actor, AuditLog, Target, lock_head
from helixdesk.db.session import reading, transaction

PRUNED = "audit.pruned"


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    rows: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str | None
    bad_seq: int | None = None
    problem: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "bad_seq": self.bad_seq,
            "problem": self.problem,
        }


@dataclass
class _Walk:
    key: bytes
    rows: int = 0
    first: tuple[int, str] | None = None
    last_seq: int = 0
    last_hash: str = GENESIS
    bad: tuple[int, str] | None = None

    def __post_init__(self) -> None:
        self.anchors: set[tuple[int, str]] = set()

    def step(self, row: Any) -> bool:
        """Check one row against the previous one; False (with `bad` set) at the first problem."""
        if row.hash != row_hash(self.key, row):
            self.bad = (row.seq, f"row {row.seq} does not match its hash: it was edited or forged")
        elif self.first is None:
            self.first = (row.seq, row.prev_hash)
            if row.seq == 1 and row.prev_hash != GENESIS:
                self.bad = (1, "row 1 does not start the chain (its prev_hash is not the genesis)")
        elif row.seq != self.last_seq + 1:
            self.bad = (row.seq, f"rows {self.last_seq + 1}..{row.seq - 1} are missing: they were deleted")
        elif row.prev_hash != self.last_hash:
            self.bad = (
                row.seq,
                f"row {row.seq} does not follow row {self.last_seq}: rows were inserted or replaced",
            )
        if self.bad is not None:
            return False
        if row.action == PRUNED:
            d = json.loads(row.details)
            self.anchors.add((int(d.get("through_seq", -1)), str(d.get("through_hash", ""))))
        self.rows += 1
        self.last_seq, self.last_hash = row.seq, row.hash
        return True

    def report(self) -> ChainReport:
        first_seq = self.first[0] if self.first else None
        if self.bad is not None:
            return ChainReport(False, self.rows, first_seq, self.last_seq or None, None, *self.bad)
        return ChainReport(
            True, self.rows, first_seq, self.last_seq or None, self.last_hash if self.rows else None
        )


def verify_chain(
    sessions: sessionmaker[Session],
    key: bytes,
    *,
    through_seq: int | None = None,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Check the chain from its first row (up to `through_seq` if given); never raises for a bad row."""
    walk = _Walk(key)
    while True:
        with reading(sessions) as s:
            # Plain result rows, not ORM objects: verifying is read-only and twice as fast this way.
            stmt = select(*AuditLogRow.__table__.columns).where(AuditLogRow.seq > walk.last_seq)
            if through_seq is not None:
                stmt = stmt.where(AuditLogRow.seq <= through_seq)
            chunk = s.execute(stmt.order_by(AuditLogRow.seq).limit(batch)).all()
            problem: tuple[int, str] | str | None = None
            if not chunk:
                # The end of the rows seen. The head, read after them, is at least as far along,
                # since every append moves it in the row's own transaction.
                problem = _head_problem(s, walk, key, through_seq)
        if chunk:
            if not all(walk.step(row) for row in chunk):
                return walk.report()
            if progress is not None:
                progress(walk.rows)
            continue
        if problem == "more":
            continue  # rows appended while we walked: check them too
        if isinstance(problem, tuple):
            walk.bad = problem
            return walk.report()
        break
    first = walk.first
    if first is not None and first[0] != 1 and (first[0] - 1, first[1]) not in walk.anchors:
        walk.bad = (
            first[0],
            f"the chain starts at row {first[0]} but no {PRUNED} entry vouches for rows "
            f"1..{first[0] - 1}: they were deleted",
        )
    return walk.report()


def _head_problem(
    s: Session, walk: _Walk, key: bytes, through_seq: int | None
) -> tuple[int, str] | str | None:
    """What is wrong at the end of the chain: (seq, problem), "more" rows to walk, or None."""
    end = walk.last_seq
    if through_seq is not None:
        if end < through_seq:
            return (end + 1, f"rows {end + 1}..{through_seq} are missing: they were deleted")
        return None
    head = s.get(AuditChainHead, HEAD_ID)
    if head is None or head.seq == 0:
        if walk.rows:
            return (end, "the chain head is missing though rows exist: it was deleted or reset")
        return None
    if not hmac.compare_digest(head.mac, head_mac(key, head.seq, head.hash)):
        return (head.seq, "the chain head does not match its MAC: it was edited")
    if head.seq > end:
        if s.get(AuditLogRow, head.seq) is not None:
            return "more"
        return (end + 1, f"rows {end + 1}..{head.seq} are missing: they were deleted from the end")
    if head.seq < end:
        return (
            head.seq + 1,
            f"row {head.seq + 1} lies beyond the chain head (row {head.seq}): it was inserted",
        )
    if head.hash != walk.last_hash:
        return (head.seq, f"row {head.seq} is not the row the chain head names: it was replaced")
    return None


@dataclass(frozen=True, slots=True)
class PruneResult:
    through_seq: int | None
    rows: int
    dry_run: bool


def prune_before(
    sessions: sessionmaker[Session], audit: AuditLog, cutoff: datetime, *, actor: Actor, dry_run: bool = False
) -> PruneResult:
    """Delete the entries recorded before `cutoff`, as one whole verified prefix of the chain.

    Refuses (`audit_chain_broken`, nothing deleted) when the chain does not verify: evidence of
    tampering is never pruned away.
    """
    with reading(sessions) as s:
        last_old = s.scalar(select(func.max(AuditLogRow.seq)).where(AuditLogRow.at < cutoff))
        if last_old is None:
            return PruneResult(None, 0, dry_run)
        # Entries are appended in time order, but a clock stepping back could interleave them:
        # the prefix ends before the first recent entry.
        first_new = s.scalar(select(func.min(AuditLogRow.seq)).where(AuditLogRow.at >= cutoff))
        through = min(last_old, first_new - 1) if first_new is not None else last_old
        first = s.scalar(select(func.min(AuditLogRow.seq)))
    count = 0 if first is None or through < first else through - first + 1
    if count == 0 or dry_run:
        return PruneResult(through if count else None, count, dry_run)
    report = verify_chain(sessions, audit.key)
    if not report.ok:
        raise AuditChainBrokenError(
            f"the audit chain does not verify, nothing was pruned: {report.problem}", seq=report.bad_seq
        )
    with transaction(sessions) as s:
        lock_head(s)  # one prune at a time, and no append in between
        first = s.scalar(select(func.min(AuditLogRow.seq)))
        if first is None or first > through:
            return PruneResult(None, 0, dry_run)  # another run pruned it meanwhile
        deleted = through - first + 1
        through_hash = s.scalar(select(AuditLogRow.hash).where(AuditLogRow.seq == through))
        s.add(AuditPrunePermit(through_seq=through))
        s.flush()
        s.execute(delete(AuditLogRow).where(AuditLogRow.seq <= through))
        s.execute(delete(AuditPrunePermit))
        audit.record(
            s,
            actor=actor,
            action=PRUNED,
            target=Target("audit_log", f"1..{through}"),
            reason=f"retention: entries recorded before {cutoff.date().isoformat()}",
            details={"through_seq": through, "through_hash": through_hash, "rows": deleted},
        )
    return PruneResult(through, deleted, dry_run)
