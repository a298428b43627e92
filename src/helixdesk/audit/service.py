"""`AuditLog.record`: append one entry to the chain inside the caller's transaction; `search` reads.

    audit = container.audit
    with transaction(container.sessions) as s:
        ...  # the change or the read being audited
        audit.record(
            s,
            actor=Actor.staff("u-1024", ip=request.client.host),
            action="customer.profile.viewed",
            target=Target.customer("C000001"),
            reason="ticket 88231: customer asked about a charge",
            details={"fields": ["phone"]},
        )

The entry commits or rolls back with the caller's work. Appends are serialised so the chain stays
one line across threads and processes: the single `audit_chain_head` row is locked
(`SELECT ... FOR UPDATE` on PostgreSQL, held until the caller commits; SQLite transactions already
hold the one write lock, `BEGIN IMMEDIATE`), the new row is chained to it, and the head moves to
the new row. Record late in the transaction, after the caller's other row locks, so the lock is
held briefly and lock order stays the same everywhere. PostgreSQL must run at READ COMMITTED (its
default). If the head row was removed while rows remain, appends fail (`seq` conflict) rather than
start a second chain: `helixdesk audit verify` then says what happened.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit.chain import GENESIS, canonical_json, head_mac, row_hash
from helixdesk.audit.details import scrub
from helixdesk.audit.errors import AuditInvalidError
from helixdesk.audit.models import AuditChainHead, AuditLogRow
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading

ActorKind = Literal["customer", "staff", "bot", "system", "api_key"]
ACTOR_KINDS: tuple[str, ...] = get_args(ActorKind)
HEAD_ID = 1
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted. `id` is a stable identifier (customer number, staff id, hashed key), never a name."""

    kind: ActorKind
    id: str
    ip: str | None = None
    channel: str | None = None

    @classmethod
    def customer(cls, ref: str, *, ip: str | None = None, channel: str | None = None) -> Actor:
        return cls("customer", ref, ip, channel)

    @classmethod
    def staff(cls, staff_id: str, *, ip: str | None = None, channel: str | None = None) -> Actor:
        return cls("staff", staff_id, ip, channel)

    @classmethod
    def bot(cls, name: str = "bot", *, channel: str | None = None) -> Actor:
        return cls("bot", name, None, channel)

    @classmethod
    def system(cls, name: str) -> Actor:
        """A job or an operator's command (`retention`, `cli:alice`)."""
        return cls("system", name)

    @classmethod
    def api_key(cls, raw_key: str, *, ip: str | None = None) -> Actor:
        """An API client, identified by a hash of its key (the key itself is never stored)."""
        return cls("api_key", api_key_id(raw_key), ip)


@dataclass(frozen=True, slots=True)
class Target:
    """What was acted on: `kind` (customer, conversation, card, audit_log, ...) and its id."""

    kind: str
    id: str

    @classmethod
    def customer(cls, ref: str) -> Target:
        return cls("customer", ref)

    @classmethod
    def conversation(cls, conversation_id: str) -> Target:
        return cls("conversation", conversation_id)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: Actor
    action: str
    target: Target
    customer_ref: str | None
    reason: str
    details: dict[str, Any]
    process: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": asdict(self.actor),
            "action": self.action,
            "target": asdict(self.target),
            "customer_ref": self.customer_ref,
            "reason": self.reason,
            "details": self.details,
            "process": self.process,
            "hash": self.hash,
        }


def api_key_id(raw_key: str) -> str:
    """A stable, non-reversible id for an API key: `k_` + the first 16 hex of its SHA-256."""
    return "k_" + hashlib.sha256(raw_key.encode()).hexdigest()[:16]


@cache
def _hostname() -> str:
    return socket.gethostname()[:80]


def this_process() -> str:
    return f"{_hostname()}:{os.getpid()}"


def entry(row: AuditLogRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=Actor(row.actor_kind, row.actor_id, row.actor_ip, row.channel),  # type: ignore[arg-type]
        action=row.action,
        target=Target(row.target_kind, row.target_id),
        customer_ref=row.customer_ref,
        reason=row.reason,
        details=json.loads(row.details),
        process=row.process,
        hash=row.hash,
    )


def lock_head(session: Session) -> AuditChainHead:
    """The chain head, locked for this transaction (created at seq 0 when the log is new)."""
    stmt = (
        select(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.scalars(stmt).one_or_none()
    if head is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(AuditChainHead)
            .values(id=HEAD_ID, seq=0, hash=GENESIS, mac="")
            .on_conflict_do_nothing(index_elements=["id"])
        )
        head = session.scalars(stmt).one()
    return head


class AuditLog:
    """Appends to and reads the audit chain. Built once per process with the chain key."""

    def __init__(self, *, key: bytes, clock: Callable[[], datetime] = utcnow) -> None:
        if len(key) < 16:
            raise AuditInvalidError("the audit key must be at least 16 bytes")
        self._key = key
        self._clock = clock

    @property
    def key(self) -> bytes:
        return self._key

    def record(
        self,
        session: Session,
        *,
        actor: Actor,
        action: str,
        target: Target,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
        customer_ref: str | None = None,
    ) -> AuditEntry:
        """Append one entry in `session`'s transaction and return it (with its `seq` and `hash`).

        `customer_ref` is whose data the event concerns; it defaults to the target (when it is a
        customer) or the actor (when a customer acts). `details` is scrubbed of personal data.
        """
        row = self._row(actor, action, target, reason, details, customer_ref)
        head = lock_head(session)
        row.seq, row.prev_hash = head.seq + 1, head.hash
        row.at = self._clock()
        row.hash = row_hash(self._key, row)
        session.add(row)
        head.seq, head.hash, head.mac = row.seq, row.hash, head_mac(self._key, row.seq, row.hash)
        session.flush()
        return entry(row)

    def _row(
        self,
        actor: Actor,
        action: str,
        target: Target,
        reason: str,
        details: Mapping[str, Any] | None,
        customer_ref: str | None,
    ) -> AuditLogRow:
        if actor.kind not in ACTOR_KINDS:
            raise AuditInvalidError(f"actor kind must be one of {', '.join(ACTOR_KINDS)}, not {actor.kind!r}")
        if not actor.id or len(actor.id) > 128:
            raise AuditInvalidError("actor id must be 1-128 characters")
        if not _ACTION.match(action) or len(action) > 64:
            raise AuditInvalidError(
                f"action must be dotted lower-case words (e.g. 'profile.viewed'): {action!r}"
            )
        if not target.kind or len(target.kind) > 32 or not target.id or len(target.id) > 128:
            raise AuditInvalidError("target kind (1-32) and id (1-128 characters) are required")
        if customer_ref is None:
            if target.kind == "customer":
                customer_ref = target.id
            elif actor.kind == "customer":
                customer_ref = actor.id
        return AuditLogRow(
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_ip=(actor.ip or None) and actor.ip[:45],
            channel=(actor.channel or None) and actor.channel[:16],
            process=this_process(),
            action=action,
            target_kind=target.kind,
            target_id=target.id,
            customer_ref=customer_ref[:36] if customer_ref else None,
            reason=(reason or "").strip()[:MAX_REASON],
            details=canonical_json(scrub(dict(details or {}))),
        )


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for `search`; every field is optional. `action` ending in `.*` matches a prefix."""

    actor_kind: str | None = None
    actor_id: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    action: str | None = None
    customer_ref: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 100


def search(session: Session, query: AuditQuery) -> list[AuditEntry]:
    """Entries matching `query`, newest first; page with `before_seq` = the last seq you got.

    This is what a supervisor page lists (the template `edge/templates/audit.html` renders it).
    """
    stmt = select(AuditLogRow)
    if query.actor_kind:
        stmt = stmt.where(AuditLogRow.actor_kind == query.actor_kind)
    if query.actor_id:
        stmt = stmt.where(AuditLogRow.actor_id == query.actor_id)
    if query.target_kind:
        stmt = stmt.where(AuditLogRow.target_kind == query.target_kind)
    if query.target_id:
        stmt = stmt.where(AuditLogRow.target_id == query.target_id)
    if query.action:
        if query.action.endswith(".*"):
            prefix = query.action[:-2]
            stmt = stmt.where(
                (AuditLogRow.action == prefix) | AuditLogRow.action.startswith(prefix + ".", autoescape=True)
            )
        else:
            stmt = stmt.where(AuditLogRow.action == query.action)
    if query.customer_ref:
        stmt = stmt.where(AuditLogRow.customer_ref == query.customer_ref)
    if query.since is not None:
        stmt = stmt.where(AuditLogRow.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditLogRow.at < query.until)
    if query.before_seq is not None:
        stmt = stmt.where(AuditLogRow.seq < query.before_seq)
    limit = max(1, min(query.limit, 10_000))
    rows = session.scalars(stmt.order_by(AuditLogRow.seq.desc()).limit(limit))
    return [entry(r) for r in rows]


class AuditSearch:
    """Searching the audit log (the supervisors' page)."""

    def __init__(self, *, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def search(self, query: AuditQuery) -> list[AuditEntry]:
        with reading(self._sessions) as s:
            return search(s, query)
