"""Facts into rollups: each fact's contribution to its day's cell and counts, moved as differences.

`store_facts(s, facts)` writes the facts of some conversations and moves the change into the
rollups: the stored row's contribution out, the new one's in. A cell or count that reaches zero
conversations is deleted, so the rollups always equal the sum of the facts, which is what
`rewrite_rollups` (the rebuild) writes from scratch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from helixdesk.analytics.facts import Fact
from helixdesk.analytics.models import DIMENSIONS, GRAINS, AnalyticsCell, AnalyticsCount, AnalyticsFact

Key = tuple[Any, ...]  # (grain, day, channel, language, queue, tier, intent, agent_id)
CountKey = tuple[Any, ...]  # Key + (kind, key)
MEASURES: tuple[str, ...] = (
    "conversations",
    "engaged",
    "contained",
    "handed_off",
    "closed",
    "resolved",
    "rated",
    "csat_sum",
    "responded",
    "response_sum",
    "waited",
    "wait_sum",
    "abandoned",
    "handled",
    "handled_sum",
    "transfers",
    "negative",
    "risky",
    "sla_due",
    "sla_met",
    "emotional_load",
)
_FACT_FIELDS: tuple[str, ...] = tuple(f for f in Fact.__dataclass_fields__)


def cell_keys(f: Fact) -> list[Key]:
    """The fact's cell at each grain."""
    keys = []
    for grain, kept in GRAINS.items():
        keys.append((grain, f.day, *(getattr(f, d) if d in kept else "" for d in DIMENSIONS)))
    return keys


def contribution(f: Fact) -> dict[str, float]:
    return {
        "conversations": 1,
        "engaged": int(f.engaged),
        "contained": int(f.contained),
        "handed_off": int(f.handed_off),
        "closed": int(f.closed),
        "resolved": int(f.resolved),
        "rated": int(f.csat is not None),
        "csat_sum": f.csat or 0,
        "responded": int(f.first_response_seconds is not None),
        "response_sum": f.first_response_seconds or 0.0,
        "waited": int(f.queue_wait_seconds is not None),
        "wait_sum": f.queue_wait_seconds or 0.0,
        "abandoned": int(f.abandoned),
        "handled": int(f.handled_seconds > 0),
        "handled_sum": f.handled_seconds,
        "transfers": f.transfers,
        "negative": int(f.negative),
        "risky": int(f.risky),
        "sla_due": int(f.sla_met is not None),
        "sla_met": int(f.sla_met is True),
        "emotional_load": f.emotional_load,
    }


def counted(f: Fact) -> dict[tuple[str, str], int]:
    """The fact's categorical counts: its handoff reason, its messages' emotions, its risk types."""
    out: dict[tuple[str, str], int] = {}
    if f.handoff_reason:
        out[("reason", f.handoff_reason)] = 1
    for label, n in f.emotions.items():
        out[("emotion", label)] = int(n)
    for risk in f.risks:
        out[("risk", risk)] = 1
    return out


class Tally:
    """Differences to the rollups, summed in memory before they are written."""

    def __init__(self) -> None:
        self.cells: dict[Key, dict[str, float]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
        self.counts: dict[CountKey, int] = defaultdict(int)

    def add(self, f: Fact, sign: int = 1) -> None:
        values = contribution(f)
        kinds = counted(f)
        for key in cell_keys(f):
            cell = self.cells[key]
            for name, value in values.items():
                cell[name] += sign * value
            for (kind, k), n in kinds.items():
                self.counts[(*key, kind, k)] += sign * n


def to_row(f: Fact) -> dict[str, Any]:
    values = {name: getattr(f, name) for name in _FACT_FIELDS}
    values["emotions"] = dict(f.emotions)
    values["risks"] = list(f.risks)
    values["knowledge"] = list(f.knowledge)
    return values


def from_row(row: Any) -> Fact:
    """A stored fact (an ORM row, or a row's mapping) as a `Fact`."""

    def get(name: str) -> Any:
        return row[name] if isinstance(row, Mapping) or hasattr(row, "keys") else getattr(row, name)

    values: dict[str, Any] = {name: get(name) for name in _FACT_FIELDS}
    values["emotions"] = dict(get("emotions") or {})
    values["risks"] = tuple(get("risks") or ())
    values["knowledge"] = tuple(get("knowledge") or ())
    return Fact(**values)


def store_facts(s: Session, facts: Mapping[str, Fact | None]) -> int:
    """Write these conversations' facts (None: the conversation is gone) and move the differences
    into the rollups; returns how many facts changed."""
    if not facts:
        return 0
    stored = {
        r.conversation_id: r
        for r in s.scalars(select(AnalyticsFact).where(AnalyticsFact.conversation_id.in_(list(facts))))
    }
    tally = Tally()
    changed = 0
    for cid, new in facts.items():
        row = stored.get(cid)
        old = from_row(row) if row is not None else None
        if old == new:
            continue
        changed += 1
        if old is not None:
            tally.add(old, -1)
        if new is None:
            if row is not None:
                s.delete(row)
            continue
        tally.add(new, 1)
        if row is None:
            s.add(AnalyticsFact(**to_row(new)))
        else:
            for name, value in to_row(new).items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
    apply(s, tally)
    return changed


def apply(s: Session, tally: Tally) -> None:
    for key, diff in tally.cells.items():
        if not any(diff.values()):
            continue
        cell = s.get(AnalyticsCell, key)
        if cell is None:
            cell = AnalyticsCell(
                **dict(zip(("grain", "day", *DIMENSIONS), key, strict=True)), **dict.fromkeys(MEASURES, 0)
            )
            s.add(cell)
        for name, value in diff.items():
            if value:
                setattr(cell, name, getattr(cell, name) + value)
        if cell.conversations <= 0:
            s.delete(cell)
    for ckey, n in tally.counts.items():
        if not n:
            continue
        count = s.get(AnalyticsCount, ckey)
        if count is None:
            count = AnalyticsCount(
                **dict(zip(("grain", "day", *DIMENSIONS, "kind", "key"), ckey, strict=True)), count=0
            )
            s.add(count)
        count.count += n
        if count.count <= 0:
            s.delete(count)


def rewrite_rollups(s: Session, *, chunk_days: int = 3) -> None:
    """Replace the rollups with the sums of the stored facts, a few days at a time (memory stays
    that of a few days' cells), in the caller's transaction."""
    s.execute(delete(AnalyticsCell))
    s.execute(delete(AnalyticsCount))
    first, last = s.execute(select(func.min(AnalyticsFact.day), func.max(AnalyticsFact.day))).one()
    if first is None:
        return
    columns = AnalyticsFact.__table__.columns
    day = first
    while day <= last:
        end = day + timedelta(days=chunk_days - 1)
        tally = Tally()
        rows = s.execute(
            select(*columns)
            .where(AnalyticsFact.day >= day, AnalyticsFact.day <= end)
            .execution_options(yield_per=5000)
        )
        for row in rows.mappings():
            tally.add(from_row(row))
        _insert(s, tally)
        day = end + timedelta(days=1)


def _insert(s: Session, tally: Tally) -> None:
    cols = ("grain", "day", *DIMENSIONS)
    cells = [
        {**dict(zip(cols, key, strict=True)), **values}
        for key, values in tally.cells.items()
        if values["conversations"] > 0
    ]
    counts = [
        {**dict(zip((*cols, "kind", "key"), key, strict=True)), "count": n}
        for key, n in tally.counts.items()
        if n > 0
    ]
    for i in range(0, len(cells), 5000):
        s.execute(insert(AnalyticsCell), cells[i : i + 5000])
    for i in range(0, len(counts), 5000):
        s.execute(insert(AnalyticsCount), counts[i : i + 5000])
