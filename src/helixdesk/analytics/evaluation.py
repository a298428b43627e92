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
through which month it was observed (`retention_observed_through`).

Each outcome gets a verdict (`verdict`): `better` or `worse` by the direction that is better for
it when the interval is clear of zero, `no_clear_effect` when it crosses zero, `too_few` when an
arm has fewer than two values (its variance, and so the interval, is unknown), `no_data` when no
touched conversation had a comparison. `choices` lists what can be evaluated in a period: the
knowledge entries the bot's answers cited, the queues and the handoff reasons, each with the
conversations it touched.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import SQLColumnExpression, String, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from helixdesk.analytics.models import AnalyticsCell, AnalyticsCount, AnalyticsFact
from helixdesk.analytics.query import Days, Filters, conditions, grain_for
from helixdesk.bank.connector import MonthlyActivity
from helixdesk.conversations.models import Customer
from helixdesk.core.errors import ValidationFailedError
from helixdesk.knowledge.models import KbChunk, split_questions
from helixdesk.lifecycle.churn import churn_event
from helixdesk.lifecycle.config import ChurnRules
from helixdesk.lifecycle.data import months_of

KINDS = ("knowledge", "queue", "reason", "after")
Z95 = 1.959964
F = AnalyticsFact
# The knowledge entries `choices` lists, the most cited first.
KNOWLEDGE_CHOICES = 200
_CHUNK = 500


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
            # The entry as the JSON text holds it: quoted, anything not ASCII as a \u escape.
            return cast(F.knowledge, String).like(f"%{_escape(json.dumps(self.value))}%", escape="\\")
        if self.kind == "queue":
            return F.queue == self.value
        if self.kind == "reason":
            return F.handoff_reason == self.value
        return F.day >= date.fromisoformat(self.value)


@dataclass(frozen=True, slots=True)
class Stats:
    """Values summed up: how many, their sum and their sum of squares (a mean and a variance)."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(len(values), float(sum(values)), float(sum(v * v for v in values)))

    def __add__(self, other: Stats) -> Stats:
        return Stats(self.n + other.n, self.total + other.total, self.squares + other.squares)

    @property
    def mean(self) -> float:
        return self.total / self.n

    @property
    def var(self) -> float:
        """The sample variance (0 for fewer than two values)."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    better: str  # higher or lower
    value: SQLColumnExpression[Any]  # a fact's value, NULL when the outcome does not apply to it


def _flag(column: SQLColumnExpression[bool]) -> ColumnElement[int]:
    return case((column.is_(True), 1), else_=0)


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("csat", "higher", F.csat),
    Outcome("repeat_contact", "lower", case((F.engaged.is_(True), _flag(F.came_back)))),
    Outcome("fcr", "higher", case((F.closed.is_(True), _flag(F.resolved)))),
)


RETENTION = "retention"


@dataclass(frozen=True, slots=True)
class Retention:
    """Whether a bank customer stayed after a conversation, from the bank's monthly history."""

    months: dict[str, list[MonthlyActivity]]  # bank ref -> months, oldest first
    rules: ChurnRules

    def of(self, ref: str, day: date) -> float | None:
        """1 when the customer `ref` had not churned from the month of `day` on, 0 when they
        churned from that month on, None when it cannot be told."""
        months = self.months.get(ref)
        if not months:
            return None
        month = day.replace(day=1)
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


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


Arm = Sequence[float] | Stats


def compare(strata: Mapping[Any, tuple[Arm, Arm]]) -> dict[str, Any]:
    """The touched against the comparable, stratum by stratum, weighted by the touched. Each arm
    of a stratum is its values, or their `Stats`."""
    summed = {
        k: (t if isinstance(t, Stats) else Stats.of(t), c if isinstance(c, Stats) else Stats.of(c))
        for k, (t, c) in strata.items()
    }
    usable = [(t, c) for t, c in summed.values() if t.n and c.n]
    left_out = sum(t.n for t, c in summed.values() if t.n and not c.n)
    touched = sum((t for t, _ in usable), Stats())
    others = sum((c for _, c in usable), Stats())
    if not touched.n:
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
    n = touched.n
    diff = var = 0.0
    expected = 0.0
    for t, c in usable:
        vt = t.var if t.n > 1 else touched.var
        vc = c.var if c.n > 1 else others.var
        w = t.n / n
        diff += w * (t.mean - c.mean)
        expected += w * c.mean
        var += w * w * (vt / t.n + vc / c.n)
    half = Z95 * math.sqrt(var)
    return {
        "touched": n,
        "comparable": others.n,
        "left_out": left_out,
        "touched_mean": round(touched.mean, 4),
        # What the touched would have had, by the comparable group of their own strata.
        "comparable_mean": round(expected, 4),
        "difference": round(diff, 4),
        "ci_low": round(diff - half, 4),
        "ci_high": round(diff + half, 4),
    }


def verdict(result: dict[str, Any], better: str) -> str:
    """What an outcome's comparison says: better, worse, no_clear_effect, too_few or no_data."""
    if result["difference"] is None:
        return "no_data"
    if result["touched"] < 2 or result["comparable"] < 2:
        return "too_few"
    if result["ci_low"] <= 0 <= result["ci_high"]:
        return "no_clear_effect"
    return "better" if (result["difference"] > 0) == (better == "higher") else "worse"


def evaluate(
    s: Session, change: Change, days: Days, filters: Filters, *, churn: ChurnRules | None = None
) -> dict[str, Any]:
    """The change's effect on each outcome, over the conversations of `days` (and `filters`).
    Retention is measured with the lifecycle's `churn` rules (none given: no retention figures).

    `touched` counts the conversations the change touched; `left_out` those of them with no
    untouched conversation of the same intent and language to compare with. The database sums
    each outcome per intent, language and arm (touched or not): one grouped read, a few rows per
    stratum whatever the number of conversations."""
    arm = case((change.touched(), 1), else_=0).label("arm")
    columns: list[Any] = [F.intent, F.language, arm, func.count()]
    for outcome in OUTCOMES:
        columns += [
            func.count(outcome.value),
            func.sum(outcome.value),
            func.sum(outcome.value * outcome.value),
        ]
    groups: dict[tuple[str, str], dict[int, Any]] = defaultdict(dict)
    for row in s.execute(
        select(*columns).where(*conditions(F, days, filters)).group_by(F.intent, F.language, arm)
    ):
        groups[(row[0], row[1])][int(row[2])] = row
    touched = {key: arms[1] for key, arms in groups.items() if 1 in arms}
    out: dict[str, Any] = {
        "change": f"{change.kind}:{change.value}",
        "period": {"from": days.first.isoformat(), "to": days.last.isoformat()},
        "touched": sum(int(row[3]) for row in touched.values()),
        "left_out": sum(int(row[3]) for key, row in touched.items() if 0 not in groups[key]),
        "retention_observed_through": None,
        "outcomes": [],
    }
    for i, outcome in enumerate(OUTCOMES):
        at = 4 + 3 * i
        strata = {key: (_stats(row, at), _stats(groups[key].get(0), at)) for key, row in touched.items()}
        result = compare(strata)
        out["outcomes"].append(
            {
                "key": outcome.key,
                "better": outcome.better,
                **result,
                "verdict": verdict(result, outcome.better),
            }
        )
    retained, out["retention_observed_through"] = _retention(s, change, days, filters, set(touched), churn)
    result = compare(retained)
    out["outcomes"].append(
        {"key": RETENTION, "better": "higher", **result, "verdict": verdict(result, "higher")}
    )
    return out


def _retention(
    s: Session,
    change: Change,
    days: Days,
    filters: Filters,
    strata: set[tuple[str, str]],
    churn: ChurnRules | None,
) -> tuple[dict[Any, tuple[Arm, Arm]], str | None]:
    """Retention per stratum and arm: it depends on each customer's history, not on the fact
    alone, so it is read per conversation of a bank customer, in the touched strata only."""
    if churn is None or not strata:
        return {}, None
    arm = case((change.touched(), 1), else_=0)
    intents = sorted({intent for intent, _ in strata})
    rows = s.execute(
        select(F.intent, F.language, arm, Customer.bank_ref, F.day)
        .join(Customer, Customer.id == F.customer_id)
        .where(*conditions(F, days, filters), F.intent.in_(intents), Customer.bank_ref.is_not(None))
    ).all()
    retention = Retention(months_of(s, sorted({r[3] for r in rows})), churn)
    values: dict[Any, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for intent, language, touched, ref, day in rows:
        if (intent, language) not in strata:
            continue
        value = retention.of(ref, day)
        if value is not None:
            values[(intent, language)][0 if touched else 1].append(value)
    return dict(values), retention.observed_through


def _stats(row: Any, at: int) -> Stats:
    """An outcome's sums in a grouped row (from column `at`: count, sum, sum of squares)."""
    if row is None or not row[at]:
        return Stats()
    return Stats(int(row[at]), float(row[at + 1]), float(row[at + 2]))


def choices(s: Session, days: Days, filters: Filters, *, language: str) -> dict[str, Any]:
    """What can be evaluated over `days` (and `filters`), each with the conversations it touched
    (what `evaluate` counts as `touched`), the most first: the knowledge the bot's answers cited
    (`label`: the entry's question in `language` when the knowledge base still holds it), the
    first handoff's queues and reasons (read from the rollups)."""
    cited: Counter[str] = Counter()
    listed = cast(F.knowledge, String)
    for raw, n in s.execute(
        select(listed, func.count()).where(*conditions(F, days, filters)).group_by(listed)
    ):
        for ref in _refs(raw):
            cited[ref] += int(n)
    top = _ranked(cited)[:KNOWLEDGE_CHOICES]
    titles = _titles(s, [ref for ref, _ in top], language)
    c = AnalyticsCell
    queues = s.execute(
        select(c.queue, func.sum(c.conversations))
        .where(*conditions(c, days, filters, grain_for(filters, "queue")), c.queue != "")
        .group_by(c.queue)
    ).all()
    k = AnalyticsCount
    reasons = s.execute(
        select(k.key, func.sum(k.count))
        .where(*conditions(k, days, filters, grain_for(filters)), k.kind == "reason")
        .group_by(k.key)
    ).all()
    return {
        "knowledge": [{"key": ref, "label": titles.get(ref, ref), "count": n} for ref, n in top],
        "queues": [{"key": q, "count": n} for q, n in _ranked({q: int(n or 0) for q, n in queues})],
        "reasons": [{"key": r, "count": n} for r, n in _ranked({r: int(n or 0) for r, n in reasons})],
    }


def _refs(raw: Any) -> list[str]:
    """The entries of a fact's `knowledge` as the database gives the JSON back (text, or a list)."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else json.loads(raw)
    return [str(ref) for ref in items if ref]


def _ranked(counted: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(((key, n) for key, n in counted.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))


def _titles(s: Session, refs: list[str], language: str) -> dict[str, str]:
    """Each FAQ entry's question in `language` (else in any language, else its heading)."""
    out: dict[str, str] = {}
    for i in range(0, len(refs), _CHUNK):
        rows = s.execute(
            select(KbChunk.faq_id, KbChunk.questions, KbChunk.heading)
            .where(KbChunk.faq_id.in_(refs[i : i + _CHUNK]))
            .order_by(KbChunk.id.desc())  # the latest upload of an entry first
        )
        for ref, raw, heading in rows:
            if ref is None or ref in out:
                continue
            questions, _ = split_questions(raw)
            title = questions.get(language) or next(iter(questions.values()), "") or heading
            if title:
                out[ref] = title
    return out
