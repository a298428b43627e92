"""Service-effect evaluation: did a change help the customers it touched?

A change is named by what marks the conversations it touched:

- `knowledge:<entry id>`: the bot answered from that knowledge entry (or document);
- `queue:<queue>` / `reason:<reason>`: a routing rule sent them to that queue, or handed them over
  for that reason;
- `after:<YYYY-MM-DD>`: a change that took effect on that day (a new routing rule, a new flow):
  the conversations from that day on against those before it, in the same period.

The comparable group is the conversations of the same period that the change did not touch, with
the same intent and language: within each such stratum the touched are compared with the others,
and the strata are combined weighted by how many touched conversations each holds (the effect on
the touched). Strata without a comparison are left out and counted. Each outcome gets the two
means, their difference and a 95% confidence interval (normal approximation, the variance of each
stratum's difference summed with the weights squared), so a difference within the noise shows as
an interval across zero.

Outcomes: satisfaction (CSAT 1-5, rated conversations), repeat contact (the customer came back
within 7 days; lower is better), first-contact resolution (closed conversations) and retention:
the bank's customer had not churned (the lifecycle's churn rules over the bank's monthly history,
docs/lifecycle.md) from the month of the conversation through the latest month the bank holds.
Retention is left out for a conversation of an unknown customer, of a customer without history, of
a customer who had churned before it, or of a month the history does not reach yet; the result says
through which month it was observed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from helixdesk.analytics.models import AnalyticsFact
from helixdesk.analytics.query import Days, Filters, conditions
from helixdesk.bank.connector import MonthlyActivity
from helixdesk.conversations.models import Customer
from helixdesk.core.errors import ValidationFailedError
from helixdesk.lifecycle.churn import churn_event
from helixdesk.lifecycle.config import ChurnRules
from helixdesk.lifecycle.data import months_of

KINDS = ("knowledge", "queue", "reason", "after")
Z95 = 1.959964
F = AnalyticsFact


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Change:
        kind, _, value = (text or "").partition(":")
        if kind not in KINDS or not value or len(value) > 128:
            raise ValidationFailedError(
                f"a change is one of {', '.join(k + ':<value>' for k in KINDS)}", code="invalid_change"
            )
        if kind == "after":
            try:
                date.fromisoformat(value)
            except ValueError as e:
                raise ValidationFailedError("after:<YYYY-MM-DD>", code="invalid_change") from e
        return cls(kind, value)

    def touched(self) -> ColumnElement[bool]:
        if self.kind == "knowledge":
            return cast(F.knowledge, String).like(f'%"{_escape(self.value)}"%', escape="\\")
        if self.kind == "queue":
            return F.queue == self.value
        if self.kind == "reason":
            return F.handoff_reason == self.value
        return F.day >= date.fromisoformat(self.value)


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    better: str  # higher or lower
    value: Callable[[Any, Retention], float | None]


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("csat", "higher", lambda f, _: float(f.csat) if f.csat is not None else None),
    Outcome("repeat_contact", "lower", lambda f, _: float(f.came_back) if f.engaged else None),
    Outcome("fcr", "higher", lambda f, _: float(f.resolved) if f.closed else None),
    Outcome("retention", "higher", lambda f, r: r.of(f)),
)


@dataclass(frozen=True, slots=True)
class Retention:
    """Whether each conversation's customer stayed, from the bank's monthly history."""

    bank_refs: dict[str, str]  # customer id -> bank ref
    months: dict[str, list[MonthlyActivity]]  # bank ref -> months, oldest first
    rules: ChurnRules | None

    def of(self, fact: Any) -> float | None:
        ref = self.bank_refs.get(fact.customer_id)
        months = self.months.get(ref) if ref is not None else None
        if self.rules is None or not months:
            return None
        month = fact.day.replace(day=1)
        if months[-1].month < month:
            return None  # the history does not reach the conversation's month yet
        event = churn_event(months, self.rules)
        if event is None:
            return 1.0
        return None if event.month < month else 0.0

    @property
    def observed_through(self) -> str | None:
        last = max((m[-1].month for m in self.months.values() if m), default=None)
        return last.isoformat()[:7] if last is not None else None

    @classmethod
    def read(cls, s: Session, facts: Sequence[Any], rules: ChurnRules | None) -> Retention:
        if rules is None:
            return cls({}, {}, None)
        ids = sorted({f.customer_id for f in facts})
        refs: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            for cid, ref in s.execute(
                select(Customer.id, Customer.bank_ref).where(
                    Customer.id.in_(ids[start : start + 500]), Customer.bank_ref.is_not(None)
                )
            ):
                if ref is not None:
                    refs[cid] = ref
        return cls(refs, months_of(s, list(refs.values())), rules)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace('"', "")


def _mean_var(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, var


def compare(strata: dict[Any, tuple[list[float], list[float]]]) -> dict[str, Any]:
    """The touched against the comparable, stratum by stratum, weighted by the touched."""
    usable = {k: (t, c) for k, (t, c) in strata.items() if t and c}
    touched = [v for t, _ in usable.values() for v in t]
    others = [v for _, c in usable.values() for v in c]
    left_out = sum(len(t) for k, (t, c) in strata.items() if t and not c)
    if not touched:
        return {
            "touched": 0,
            "comparable": 0,
            "left_out": left_out,
            "touched_mean": None,
            "comparable_mean": None,
            "difference": None,
            "ci_low": None,
            "ci_high": None,
        }
    # A stratum with one value in an arm borrows the arm's variance over all strata.
    pooled_t = _mean_var(touched)[1]
    pooled_c = _mean_var(others)[1]
    n = len(touched)
    diff = var = 0.0
    expected = 0.0
    for t, c in usable.values():
        mt, vt = _mean_var(t)
        mc, vc = _mean_var(c)
        vt = vt if len(t) > 1 else pooled_t
        vc = vc if len(c) > 1 else pooled_c
        w = len(t) / n
        diff += w * (mt - mc)
        expected += w * mc
        var += w * w * (vt / len(t) + vc / len(c))
    half = Z95 * math.sqrt(var)
    return {
        "touched": n,
        "comparable": len(others),
        "left_out": left_out,
        "touched_mean": round(sum(touched) / n, 4),
        # What the touched would have had, by the comparable group of their own strata.
        "comparable_mean": round(expected, 4),
        "difference": round(diff, 4),
        "ci_low": round(diff - half, 4),
        "ci_high": round(diff + half, 4),
    }


def evaluate(
    s: Session, change: Change, days: Days, filters: Filters, *, churn: ChurnRules | None = None
) -> dict[str, Any]:
    """The change's effect on each outcome, over the conversations of `days` (and `filters`).
    Retention is measured with the lifecycle's `churn` rules (none given: no retention figures)."""
    where = conditions(F, days, filters)
    touched_rows = list(s.scalars(select(F).where(*where, change.touched())))
    strata_keys = {(f.intent, f.language) for f in touched_rows}
    intents = sorted({k[0] for k in strata_keys})
    others: list[Any] = []
    if intents:
        others = list(s.scalars(select(F).where(*where, F.intent.in_(intents), ~change.touched())))
    retention = Retention.read(s, [*touched_rows, *others], churn)
    out: dict[str, Any] = {
        "change": f"{change.kind}:{change.value}",
        "period": {"from": days.first.isoformat(), "to": days.last.isoformat()},
        "retention_observed_through": retention.observed_through,
        "outcomes": [],
    }
    for outcome in OUTCOMES:
        strata: dict[Any, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        for rows, arm in ((touched_rows, 0), (others, 1)):
            for f in rows:
                key = (f.intent, f.language)
                if key not in strata_keys:
                    continue
                value = outcome.value(f, retention)
                if value is not None:
                    strata[key][arm].append(value)
        out["outcomes"].append({"key": outcome.key, "better": outcome.better, **compare(dict(strata))})
    return out
