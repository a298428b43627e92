"""Tables of the identity step-up: challenges (codes only as HMACs), failures and lock-outs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.db.base import Base, UTCDateTime


class ChallengeStatus(enum.StrEnum):
    PENDING = "pending"  # sent, can be answered
    VERIFIED = "verified"  # answered correctly; the conversation is verified until verified_at + policy
    FAILED = "failed"  # too many wrong codes
    EXPIRED = "expired"  # seen after expires_at
    SUPERSEDED = "superseded"  # a newer code was sent in the same conversation
    LOCKED = "locked"  # the customer was locked out while it was pending
    UNDELIVERED = "undelivered"  # the notifier could not send it


class VerificationChallenge(Base):
    """One one-time code sent in one conversation. `code_hmac` = HMAC-SHA256(secret, id + ":" + code)."""

    __tablename__ = "verification_challenges"
    __table_args__ = (
        Index("ix_verification_challenges_conversation_created", "conversation_id", "created_at"),
        Index("ix_verification_challenges_customer_created", "customer_ref", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    customer_ref: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    destination_masked: Mapped[str] = mapped_column(String(64))
    code_hmac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ChallengeStatus.PENDING.value)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdentityFailure(Base):
    """One wrong code, kept per customer so that lock-out spans conversations and channels."""

    __tablename__ = "identity_failures"
    __table_args__ = (Index("ix_identity_failures_customer_failed", "customer_ref", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(36))
    challenge_id: Mapped[str] = mapped_column(String(36))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdentityLockout(Base):
    """One row per customer who ever started a challenge; the row is also the per-customer write lock.

    `locked_until` in the future means locked out. Failures before `locked_at` no longer count.
    """

    __tablename__ = "identity_lockouts"

    customer_ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
