"""A lifecycle strategy's effect, measured against its holdout group.

A strategy with a `holdout` share keeps a fixed random share of the customers it applies to out
(`lifecycle.strategies.in_holdout`): each such occasion is a touch of `lifecycle_touches` with
`arm` `holdout` and status `held_out`, beside the touches it gave (`arm` `touched`, status
`given`); `skipped` touches are in neither arm. Whatever the channel or trigger wrote them, the
two arms are compared here on:

- satisfaction: the CSAT (1-5) of the conversation the touch was in; when the touch had no
  conversation, or that conversation was not rated, the customer's next rating (of any
  conversation) given within `CSAT_WITHIN_DAYS` days after the touch;
- retention: the customer had not churned (the lifecycle's churn rules over the bank's monthly
  history, `evaluation.Retention`) from the touch's month through the latest month the bank holds
  (`retention_observed_through`);
- product growth: products held at the latest month the bank holds minus at the touch's month.

Each customer counts once per arm, at their first touch of the period (a customer's occasions are
not independent of each other). The arms are compared with the service-effect evaluation's
statistics (`evaluation.compare`: the difference of means with a 95% normal interval, and
`evaluation.verdict`), as one stratum: the holdout group is drawn at random, so no matching is
needed. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from helixdesk.analytics.evaluation import Retention, compare, verdict
from helixdesk.bank.connector import MonthlyActivity
from helixdesk.conversations.models import CsatRating, Customer
from helixdesk.core.errors import ValidationFailedError
from helixdesk.lifecycle.config import ChurnRules
from helixdesk.lifecycle.data import months_of
from helixdesk.lifecycle.errors import StrategyNotFoundError
from helixdesk.lifecycle.models import StrategyRow, StrategyVersionRow, TouchRow

# The arms: (arm, status) of the touches each holds.
TOUCHED = ("touched", "given")
HOLDOUT = ("holdout", "held_out")
# How long after a touch without a rated conversation the customer's next rating still counts.
CSAT_WITHIN_DAYS = 30
OUTCOMES = (("csat", "higher"), ("retention", "higher"), ("product_growth", "higher"))
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Window:
    """The touches' period: from `since` to `until` (days in the bank's time zone, inclusive; None:
    open)."""

    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> Window:
        days: list[date | None] = []
        for name, value in (("since", since), ("until", until)):
            try:
                days.append(date.fromisoformat(value) if value else None)
            except ValueError as e:
                raise ValidationFailedError(
                    f"{name} must be a date like 2026-11-23, not {value!r}", code="bad_date"
                ) from e
        window = cls(days[0], days[1])
        if window.since and window.until and window.until < window.since:
            raise ValidationFailedError("since must be on or before until", code="invalid_period")
        return window

    def bounds(self, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
        """The first instant in and the first after, as aware datetimes."""
        first = datetime.combine(self.since, time(), tz) if self.since else None
        after = datetime.combine(self.until + timedelta(days=1), time(), tz) if self.until else None
        return first, after


@dataclass(frozen=True, slots=True)
class Touch:
    customer_id: str
    arm: str  # touched or holdout
    at: datetime
    conversation_id: str | None
    bank_ref: str | None


def strategy_effect(
    s: Session,
    strategy_id: str,
    *,
    window: Window,
    tz: tzinfo,
    churn: ChurnRules,
    version: int | None = None,
) -> dict[str, Any]:
    """The strategy's touched arm against its holdout arm over the touches of `window` (of one
    `version`, or of all), on satisfaction, retention and product growth."""
    row = s.get(StrategyRow, strategy_id)
    if row is None:
        raise StrategyNotFoundError(f"no strategy {strategy_id}")
    if version is not None and not s.scalar(
        select(StrategyVersionRow.id).where(
            StrategyVersionRow.strategy_id == strategy_id, StrategyVersionRow.version == version
        )
    ):
        raise StrategyNotFoundError(f"strategy {strategy_id} has no version {version}")
    first, after = window.bounds(tz)
    where = [TouchRow.strategy_id == strategy_id]
    if version is not None:
        where.append(TouchRow.strategy_version == version)
    if first is not None:
        where.append(TouchRow.created_at >= first)
    if after is not None:
        where.append(TouchRow.created_at < after)
    counts = {
        status: int(n)
        for status, n in s.execute(
            select(TouchRow.status, func.count()).where(*where).group_by(TouchRow.status)
        )
    }
    touches = _first_touches(s, where)
    refs = sorted({t.bank_ref for t in touches if t.bank_ref})
    months = months_of(s, refs)
    retention = Retention(months, churn)
    ratings = _ratings(s, touches)
    values: dict[str, dict[str, list[float]]] = {k: {"touched": [], "holdout": []} for k, _ in OUTCOMES}
    for t in touches:
        got = {
            "csat": ratings.get((t.customer_id, t.arm)),
            "retention": retention.of(t.bank_ref, t.at.astimezone(tz).date()) if t.bank_ref else None,
            "product_growth": _growth(months.get(t.bank_ref or ""), t.at.astimezone(tz).date()),
        }
        for key, value in got.items():
            if value is not None:
                values[key][t.arm].append(value)
    definition = row.definition
    return {
        "strategy": strategy_id,
        "kind": definition.get("what", {}).get("kind"),
        "current_version": row.version,
        "version": version,
        "holdout_share": definition.get("holdout", 0.0),
        "period": {
            "since": window.since.isoformat() if window.since else None,
            "until": window.until.isoformat() if window.until else None,
        },
        "touches": {
            "given": counts.get("given", 0),
            "held_out": counts.get("held_out", 0),
            "skipped": counts.get("skipped", 0),
        },
        "customers": {arm: sum(1 for t in touches if t.arm == arm) for arm in ("touched", "holdout")},
        "csat_within_days": CSAT_WITHIN_DAYS,
        "retention_observed_through": retention.observed_through,
        "outcomes": [compare_arms(key, better, values[key]) for key, better in OUTCOMES],
    }


def compare_arms(key: str, better: str, arms: dict[str, list[float]]) -> dict[str, Any]:
    """One outcome of the two arms, with the evaluation's statistics and verdict."""
    touched, holdout = arms["touched"], arms["holdout"]
    result = compare({"all": (touched, holdout)})
    return {
        "key": key,
        "better": better,
        "touched": len(touched),
        "holdout": len(holdout),
        "touched_mean": round(sum(touched) / len(touched), 4) if touched else None,
        "holdout_mean": round(sum(holdout) / len(holdout), 4) if holdout else None,
        "difference": result["difference"],
        "ci_low": result["ci_low"],
        "ci_high": result["ci_high"],
        "verdict": verdict(result, better),
    }


def _first_touches(s: Session, where: Sequence[Any]) -> list[Touch]:
    """Each customer's first touch of the period in each arm."""
    rows = s.execute(
        select(
            TouchRow.customer_id,
            TouchRow.arm,
            TouchRow.created_at,
            TouchRow.conversation_id,
            Customer.bank_ref,
        )
        .join(Customer, Customer.id == TouchRow.customer_id)
        .where(*where, or_(*(and_(TouchRow.arm == a, TouchRow.status == st) for a, st in (TOUCHED, HOLDOUT))))
        .order_by(TouchRow.created_at, TouchRow.id)
    ).all()
    first: dict[tuple[str, str], Touch] = {}
    for customer_id, arm, at, conversation_id, ref in rows:
        first.setdefault((customer_id, arm), Touch(customer_id, arm, at, conversation_id, ref))
    return list(first.values())


def _ratings(s: Session, touches: Sequence[Touch]) -> dict[tuple[str, str], float]:
    """The satisfaction of each touch (by customer and arm): its conversation's rating, else the
    customer's first rating within `CSAT_WITHIN_DAYS` days after the touch."""
    by_conversation: dict[str, int] = {}
    ids = sorted({t.conversation_id for t in touches if t.conversation_id})
    for i in range(0, len(ids), _CHUNK):
        for conversation_id, score in s.execute(
            select(CsatRating.conversation_id, CsatRating.score).where(
                CsatRating.conversation_id.in_(ids[i : i + _CHUNK])
            )
        ):
            by_conversation[conversation_id] = int(score)
    out: dict[tuple[str, str], float] = {}
    later = [t for t in touches if t.conversation_id not in by_conversation]
    customers = sorted({t.customer_id for t in later})
    given: dict[str, list[tuple[datetime, int]]] = {}
    for i in range(0, len(customers), _CHUNK):
        for customer_id, at, score in s.execute(
            select(CsatRating.customer_id, CsatRating.created_at, CsatRating.score)
            .where(CsatRating.customer_id.in_(customers[i : i + _CHUNK]))
            .order_by(CsatRating.created_at)
        ):
            given.setdefault(customer_id, []).append((at, int(score)))
    for t in touches:
        if t.conversation_id in by_conversation:
            out[(t.customer_id, t.arm)] = float(by_conversation[t.conversation_id])
            continue
        end = t.at + timedelta(days=CSAT_WITHIN_DAYS)
        rated = next((sc for at, sc in given.get(t.customer_id, []) if t.at <= at <= end), None)
        if rated is not None:
            out[(t.customer_id, t.arm)] = float(rated)
    return out


def _growth(months: list[MonthlyActivity] | None, day: date) -> float | None:
    """Products held at the latest month minus at the month of `day` (None: not in the history)."""
    if not months:
        return None
    month = day.replace(day=1)
    at = next((m for m in months if m.month == month), None)
    if at is None:
        return None
    return float(months[-1].products_held - at.products_held)


def touch_counts(s: Session, *, window: Window, tz: tzinfo) -> dict[str, dict[str, int]]:
    """Every strategy's touches of the period, counted by arm and status (`touched:given`,
    `holdout:held_out`, `touched:skipped`, ...)."""
    first, after = window.bounds(tz)
    where = []
    if first is not None:
        where.append(TouchRow.created_at >= first)
    if after is not None:
        where.append(TouchRow.created_at < after)
    out: dict[str, dict[str, int]] = {}
    for strategy_id, arm, status, n in s.execute(
        select(TouchRow.strategy_id, TouchRow.arm, TouchRow.status, func.count())
        .where(*where)
        .group_by(TouchRow.strategy_id, TouchRow.arm, TouchRow.status)
    ):
        out.setdefault(strategy_id, {})[f"{arm}:{status}"] = int(n)
    return out
