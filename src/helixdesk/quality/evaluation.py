"""Measure the pack's quality rules on a labelled set (the pack's `quality/heldout/qa_set.jsonl`).

Each item is an agent draft (the last turn, with up to 3 turns of context) or a whole conversation,
with the customer's profile and every problem labelled by rule and turn. The rules run as they do
in production: the wording rules on every agent and bot turn, the product rules over the
conversation with the customer's profile; for a draft, only what concerns the draft counts (that
is what the agent is warned about). A prediction is a (rule, turn) pair; it is right when the same
pair is labelled; for the rules about the conversation as a whole (`WHOLE`), when the item has that
problem at all.

Figures: per rule precision and recall, compliance overall (micro, over the compliance rules), and
the false-alarm rate on clean items (the share of clean items with any finding).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helixdesk.quality.rules import Customer, Line, RuleBook

COMPLIANCE = (
    "absolute_promise",
    "missing_risk_disclosure",
    "unsuitable_sale",
    "asks_secret",
    "pii_in_clear",
    "rude",
)


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    language: str
    kind: str
    customer: Customer
    turns: tuple[Line, ...]
    labels: frozenset[tuple[str, int]]
    clean: bool


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    items: int = 0
    clean_items: int = 0
    clean_with_alarm: int = 0
    per_rule: dict[str, Counts] = field(default_factory=dict)
    per_language: dict[str, Counts] = field(default_factory=dict)
    mistakes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def compliance(self) -> Counts:
        total = Counts()
        for rule in COMPLIANCE:
            c = self.per_rule.get(rule, Counts())
            total.tp, total.fp, total.fn = total.tp + c.tp, total.fp + c.fp, total.fn + c.fn
        return total

    @property
    def false_alarm_rate(self) -> float:
        return self.clean_with_alarm / self.clean_items if self.clean_items else 0.0


def load_items(path: Path) -> list[Item]:
    items = []
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        if not raw_line.strip():
            continue
        raw = json.loads(raw_line)
        c = raw.get("customer") or {}
        items.append(
            Item(
                id=str(raw["id"]),
                language=str(raw["language"]),
                kind=str(raw["kind"]),
                customer=Customer(
                    risk_tolerance=c.get("risk_tolerance"),
                    age=c.get("age"),
                    vulnerable=bool(c.get("vulnerable")),
                ),
                turns=tuple(Line(str(t["sender"]), str(t["text"])) for t in raw["turns"]),
                labels=frozenset((str(lab["rule"]), int(lab["turn"])) for lab in raw.get("labels", [])),
                clean=bool(raw.get("clean", not raw.get("labels"))),
            )
        )
    return items


# Rules about the conversation as a whole: right when the item has the problem at all (the labelled
# turn and the found one may be different sentences of the same pitch).
WHOLE = ("missing_risk_disclosure", "unsuitable_sale")


def _whole(pairs: frozenset[tuple[str, int]]) -> frozenset[tuple[str, int]]:
    return frozenset((rule, -1 if rule in WHOLE else turn) for rule, turn in pairs)


def predict(book: RuleBook, item: Item) -> frozenset[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    last = len(item.turns) - 1
    for i, turn in enumerate(item.turns):
        if item.kind == "draft" and i != last:
            continue
        if turn.sender in ("agent", "bot"):
            found |= {(h.rule, i) for h in book.check_message(turn.text, turn.sender)}
    for h in book.check_products(item.turns, item.customer):
        if item.kind != "draft" or h.line == last:
            found.add((h.rule, h.line))
    return frozenset(found)


def evaluate(book: RuleBook, items: Iterable[Item]) -> Report:
    report = Report()
    for item in items:
        report.items += 1
        got = _whole(predict(book, item))
        labels = _whole(item.labels)
        if item.clean:
            report.clean_items += 1
            report.clean_with_alarm += bool(got)
        rules = {r for r, _ in got | labels}
        for rule in rules:
            c = report.per_rule.setdefault(rule, Counts())
            lang = report.per_language.setdefault(item.language, Counts())
            mine = {p for p in got if p[0] == rule}
            gold = {p for p in labels if p[0] == rule}
            c.tp += len(mine & gold)
            c.fp += len(mine - gold)
            c.fn += len(gold - mine)
            if rule in COMPLIANCE:
                lang.tp += len(mine & gold)
                lang.fp += len(mine - gold)
                lang.fn += len(gold - mine)
        if got != labels:
            report.mistakes.append(
                {
                    "id": item.id,
                    "missed": sorted(labels - got),
                    "false": sorted(got - labels),
                    "turns": [f"{t.sender}: {t.text}" for t in item.turns],
                }
            )
    return report
