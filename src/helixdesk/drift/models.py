"""Tables of drift monitoring: what the bot understood each day, the day's judgement against its
reference, the alarms, the stored training reference and the weekly retraining runs.

- `drift_days`: per day (the bank's time zone) and language, the customer messages the bot
  understood: how many, how many out of scope, the sum and sum of squares of their confidence, the
  count of each intent, and how many vocabulary tokens they held. Additive, so a window's figures
  are sums.
- `drift_tokens`: per day and language, how often each vocabulary token occurred (what the
  new-vocabulary rate compares with the reference's words).
- `drift_checks`: the latest judgement of a day per scope (`all` or a language): every measure
  with its reference value and threshold, and which reference it was judged against.
- `drift_alarms`: a measure beyond its threshold on a day, once per day, scope and measure; open
  until a person resolves it.
- `drift_references`: the training reference (how the live intent model reads the pack's held-out
  examples), stored once per model version.
- `drift_retrain_runs`: the weekly retraining job, once per ISO week, and what it did.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class AlarmStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class DriftDay(Base):
    __tablename__ = "drift_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    oos: Mapped[int] = mapped_column(Integer, default=0)
    # Messages whose confidence is known (retention keeps none of older NLU records' scores).
    scored: Mapped[int] = mapped_column(Integer, default=0)
    confidence_sum: Mapped[float] = mapped_column(Float, default=0.0)
    confidence_squares: Mapped[float] = mapped_column(Float, default=0.0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    intents: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DriftToken(Base):
    __tablename__ = "drift_tokens"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class DriftCheck(Base):
    __tablename__ = "drift_checks"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # "all" or a language
    messages: Mapped[int] = mapped_column(Integer, default=0)
    reference_kind: Mapped[str] = mapped_column(String(16))  # window, pinned or training
    reference_first: Mapped[date | None] = mapped_column(Date)
    reference_last: Mapped[date | None] = mapped_column(Date)
    reference_messages: Mapped[int] = mapped_column(Integer, default=0)
    measures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DriftAlarm(Base):
    __tablename__ = "drift_alarms"
    __table_args__ = (
        UniqueConstraint("day", "scope", "measure"),
        Index("ix_drift_alarms_status", "status", "raised_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    day: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(8))
    measure: Mapped[str] = mapped_column(String(24))
    value: Mapped[float] = mapped_column(Float)
    reference: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    messages: Mapped[int] = mapped_column(Integer)
    reference_kind: Mapped[str] = mapped_column(String(16))
    # What stood out: the intents that grew most, or the new words seen most (masked text's words).
    detail: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=AlarmStatus.OPEN.value)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(Text, default="")


class DriftReference(Base):
    __tablename__ = "drift_references"

    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Per language ("all" too): messages, oos, scored, confidence sums, intents, tokens, new tokens.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DriftRetrainRun(Base):
    __tablename__ = "drift_retrain_runs"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)  # ISO week, 2026-W49
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # running, proposed, no_new_labels, unavailable or failed
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    candidate: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
