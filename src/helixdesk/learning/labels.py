"""A label (intent, emotion, entity spans), the check of one against the pack's vocabulary and the
message's text, and how the labels of an item resolve it (pure: no I/O).

Resolution (`resolve`):

- a supervisor's label resolves the item (`supervisor`);
- one annotator's label resolves it (`single`, or `agreement` when it matches the intent the agent
  who flagged the message gave), unless it differs from that intent: then a second annotator labels
  it (`second`); items in the double-labelling sample always wait for a second annotator;
- with two or more annotators' labels, a label two of them gave resolves it (`agreement`), as does
  the one label whose intent the agent's correction backs; otherwise the item is `disputed` and
  waits for a supervisor.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helixdesk.core.turn import EMOTIONS
from helixdesk.learning.errors import LabelError
from helixdesk.nlu.entities import ENTITY_TYPES
from helixdesk.nlu.intent.data import OOS_LABEL, pack_intents

MAX_ENTITIES = 20


@dataclass(frozen=True, slots=True, order=True)
class Span:
    start: int
    end: int
    type: str


@dataclass(frozen=True, slots=True)
class LabelValue:
    intent: str
    emotion: str
    entities: tuple[Span, ...] = ()

    def to_dict(self, text: str) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "emotion": self.emotion,
            "entities": [
                {"type": e.type, "start": e.start, "end": e.end, "text": text[e.start : e.end]}
                for e in self.entities
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelValue:
        spans = (Span(int(e["start"]), int(e["end"]), str(e["type"])) for e in data.get("entities") or ())
        return cls(str(data["intent"]), str(data["emotion"]), tuple(sorted(spans)))


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What a label may say: the pack's intents (with out of scope), the emotions, the entity types."""

    intents: frozenset[str]
    emotions: frozenset[str]
    entity_types: frozenset[str]

    @classmethod
    def for_pack(cls, pack_path: Path) -> Vocabulary:
        """The pack's intents with out of scope, the eight emotions with neutral, the entity types."""
        return cls(
            intents=frozenset([*pack_intents(pack_path), OOS_LABEL]),
            emotions=frozenset(EMOTIONS),
            entity_types=frozenset(ENTITY_TYPES),
        )

    def check_intent(self, intent: str) -> None:
        if intent not in self.intents:
            raise LabelError(
                f"unknown intent {intent!r}; the pack's intents: {', '.join(sorted(self.intents))}"
            )

    def check(
        self, intent: str, emotion: str, entities: Iterable[Mapping[str, Any]], text: str
    ) -> LabelValue:
        """The label, or `LabelError` naming what is wrong with it."""
        self.check_intent(intent)
        if emotion not in self.emotions:
            raise LabelError(f"unknown emotion {emotion!r}; emotions: {', '.join(sorted(self.emotions))}")
        spans: list[Span] = []
        for e in entities:
            kind, start, end = e.get("type"), e.get("start"), e.get("end")
            if kind not in self.entity_types:
                raise LabelError(
                    f"unknown entity type {kind!r}; types: {', '.join(sorted(self.entity_types))}"
                )
            if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
                raise LabelError(
                    f"entity {kind} span {start}-{end} is not inside the message (0-{len(text)})"
                )
            spans.append(Span(start, end, str(kind)))
        if len(spans) > MAX_ENTITIES:
            raise LabelError(f"at most {MAX_ENTITIES} entities per message")
        spans.sort()
        for a, b in itertools.pairwise(spans):
            if b.start < a.end:
                raise LabelError(f"entity spans {a.start}-{a.end} and {b.start}-{b.end} overlap")
        return LabelValue(intent, emotion, tuple(spans))


@dataclass(frozen=True, slots=True)
class Given:
    """A label someone gave: `role` is annotator or supervisor."""

    by: str
    role: str
    value: LabelValue


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # open, second, disputed, resolved
    final: LabelValue | None = None
    resolution: str | None = None  # single, agreement, supervisor


def resolve(needs: int, labels: Sequence[Given], flag_intent: str | None) -> Outcome:
    """Where an item stands with these labels (see the module docstring)."""
    chief = [g for g in labels if g.role == "supervisor"]
    if chief:
        return Outcome("resolved", chief[-1].value, "supervisor")
    given = [g.value for g in labels]
    if not given:
        return Outcome("open")
    if len(given) == 1:
        (only,) = given
        if flag_intent is not None and only.intent != flag_intent:
            return Outcome("second")
        if needs >= 2:
            return Outcome("open")
        return Outcome("resolved", only, "agreement" if flag_intent is not None else "single")
    value, votes = Counter(given).most_common(1)[0]
    if votes >= 2:
        return Outcome("resolved", value, "agreement")
    backed = [v for v in given if flag_intent is not None and v.intent == flag_intent]
    if len(backed) == 1:  # the agent's correction sides with one of them
        return Outcome("resolved", backed[0], "agreement")
    return Outcome("disputed")
