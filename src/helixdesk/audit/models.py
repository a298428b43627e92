"""The `audit_log` table (append-only, hash-chained) and the permits that let retention prune it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.db.base import Base, UTCDateTime


class AuditLogRow(Base):
    """One audited event: who did what to which target, when, why and from where.

    `seq` numbers the chain without gaps; `prev_hash` is the previous row's `hash` (64 zeros for the
    first row) and `hash` is HMAC-SHA256 over the row's canonical serialisation
    (`helixdesk.audit.chain.canonical`); `audit_chain_head` holds the last row. Database triggers refuse UPDATE, and DELETE unless a
    retention prune permit covers the row.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor", "actor_kind", "actor_id"),
        Index("ix_audit_log_target", "target_kind", "target_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # customer, staff, bot, system, api_key
    actor_id: Mapped[str] = mapped_column(String(128))
    actor_ip: Mapped[str | None] = mapped_column(String(45))
    channel: Mapped[str | None] = mapped_column(String(16))
    process: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(128))
    customer_ref: Mapped[str | None] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The chain's last row (`seq`, `hash`), with `mac` = HMAC(key, "head:SEQ:HASH").

    One row (`id` = 1), updated in the same transaction as every append and locked (FOR UPDATE) to
    serialise appends. It lets `verify` detect rows deleted from the end of the chain.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class AuditPrunePermit(Base):
    """Present only inside a retention prune's transaction: rows up to `through_seq` may be deleted."""

    __tablename__ = "audit_prune_permits"

    through_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
