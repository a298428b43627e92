"""Metering: every call to the LLM is a row of `llm_calls` (tokens, latency, cost, outcome).

A row is written in a short transaction of its own as soon as the call is over, whatever happens
to the reply afterwards: the tokens were spent either way, and a turn that is rolled back must not
take its cost with it. Writing a row never breaks a reply: a failed write is logged and dropped.

`usage(s, since=...)` sums the rows per use for `helixdesk llm usage`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.db.session import transaction
from helixdesk.llm.models import LlmCall

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Prices:
    """What 1,000 tokens cost, in the cost model's currency."""

    per_1k_input: float = 0.0
    per_1k_output: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return round(
            prompt_tokens / 1000 * self.per_1k_input + completion_tokens / 1000 * self.per_1k_output, 6
        )


@dataclass(frozen=True, slots=True)
class CallRecord:
    use: str
    model: str
    used: bool
    reason: str
    streamed: bool
    prompt_tokens: int
    completion_tokens: int
    tokens_estimated: bool
    seconds: float
    cost: float
    conversation_id: str | None = None


class Meter(Protocol):
    def record(self, call: CallRecord) -> None: ...


class DbMeter:
    """Writes one `llm_calls` row per call."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, call: CallRecord) -> None:
        try:
            with transaction(self._sessions) as s:
                s.add(
                    LlmCall(
                        created_at=utcnow(),
                        use=call.use,
                        model=call.model[:200],
                        used=call.used,
                        reason=call.reason,
                        streamed=call.streamed,
                        prompt_tokens=call.prompt_tokens,
                        completion_tokens=call.completion_tokens,
                        tokens_estimated=call.tokens_estimated,
                        latency_ms=round(call.seconds * 1000),
                        cost=call.cost,
                        conversation_id=call.conversation_id,
                    )
                )
        except (SQLAlchemyError, sqlite3.Error):
            log.exception("an LLM call could not be metered (%s, %s)", call.use, call.reason)


@dataclass(frozen=True, slots=True)
class UseTotals:
    use: str
    calls: int
    used: int
    fallbacks: dict[str, int]  # reason -> calls whose answer was not used
    prompt_tokens: int
    completion_tokens: int
    estimated_calls: int
    cost: float
    mean_ms: float
    p95_ms: float


def usage(s: Session, *, since: datetime | None = None, until: datetime | None = None) -> list[UseTotals]:
    """The calls per use between `since` and `until` (UTC), with their tokens, cost and latency."""
    query = select(LlmCall)
    if since is not None:
        query = query.where(LlmCall.created_at >= since)
    if until is not None:
        query = query.where(LlmCall.created_at < until)
    by_use: dict[str, list[LlmCall]] = {}
    for row in s.scalars(query.order_by(LlmCall.created_at)):
        by_use.setdefault(row.use, []).append(row)
    return [_totals(use, rows) for use, rows in sorted(by_use.items())]


def _totals(use: str, rows: Sequence[LlmCall]) -> UseTotals:
    fallbacks: dict[str, int] = {}
    for r in rows:
        if not r.used:
            fallbacks[r.reason] = fallbacks.get(r.reason, 0) + 1
    latencies = sorted(r.latency_ms for r in rows)
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0
    return UseTotals(
        use=use,
        calls=len(rows),
        used=sum(1 for r in rows if r.used),
        fallbacks=fallbacks,
        prompt_tokens=sum(r.prompt_tokens for r in rows),
        completion_tokens=sum(r.completion_tokens for r in rows),
        estimated_calls=sum(1 for r in rows if r.tokens_estimated),
        cost=round(sum(r.cost for r in rows), 6),
        mean_ms=sum(latencies) / len(latencies) if latencies else 0.0,
        p95_ms=float(p95),
    )
