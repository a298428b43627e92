"""The typed result of understanding one customer message.

A `Turn` is frozen: every NLU stage returns a new `Turn` built with `dataclasses.replace`.
Nothing in this module imports a framework, a database or a model library.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Language = Literal["zh-Hans", "zh-Hant", "en", "mixed", "unknown"]

EMOTIONS: tuple[str, ...] = (
    "joy",
    "trust",
    "fear",
    "surprise",
    "sadness",
    "disgust",
    "anger",
    "anticipation",
    "neutral",
)

RISK_TYPES: tuple[str, ...] = ("fraud", "vulnerability", "escalation", "urgency")


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Entity:
    """A span of the original text with a normalised value.

    `start`/`end` are character offsets into `Turn.text` (the original message), `end` exclusive.
    `value` is JSON-serialisable: a string, number, or a small dict (e.g. a date range).
    """

    type: str
    value: Any
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Emotion:
    label: str
    intensity: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskSignal:
    type: str
    evidence: str
    start: int
    end: int
    weight: float = 1.0
    tag: str = ""  # the situation the matched pattern stands for ("bereavement", "age", "complaint", ...)


@dataclass(frozen=True, slots=True)
class Attachment:
    """An image the customer sent with (or instead of) text, as the OCR read it.

    `kind` is what it looks like ("charge", "bill", "error" or "unknown"); `text` is the text read,
    masked; `read` is the fields found as (name, value) pairs. The fields are also in
    `Turn.entities` (with empty spans at the end of the caption).
    """

    kind: str
    text: str
    read: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Turn:
    """One customer message and everything the NLU pipeline found in it."""

    text: str
    normalized: str = ""
    language: Language = "unknown"
    reference_time: datetime | None = None
    intent: Intent | None = None
    intent_ranking: tuple[Intent, ...] = ()
    entities: tuple[Entity, ...] = ()
    emotion: Emotion | None = None
    risk: tuple[RiskSignal, ...] = ()
    # Context the conversation service gives: the emotion of the customer's previous message in
    # this conversation (label and intensity), which the emotion stage weighs in. Not part of
    # `to_dict`: it is an input, not a finding.
    previous_emotion: Emotion | None = None
    # An image sent with the message (its caption is `text`, possibly empty). Not part of `to_dict`:
    # the stored message keeps it under `meta["image"]`.
    attachment: Attachment | None = None

    def with_(self, **changes: Any) -> Turn:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The public NLU result shape used by the CLI and `POST /api/v1/nlu/parse`."""
        return {
            "text": self.text,
            "normalized": self.normalized,
            "language": self.language,
            "intent": _intent(self.intent),
            "intent_ranking": [_intent(i) for i in self.intent_ranking],
            "entities": [
                {"type": e.type, "value": e.value, "text": e.text, "start": e.start, "end": e.end}
                for e in self.entities
            ],
            "emotion": (
                None
                if self.emotion is None
                else {
                    "label": self.emotion.label,
                    "intensity": round(self.emotion.intensity, 4),
                    "scores": {k: round(v, 4) for k, v in self.emotion.scores.items()},
                }
            ),
            "risk": [
                {"type": r.type, "evidence": r.evidence, "start": r.start, "end": r.end, "weight": r.weight}
                for r in self.risk
            ],
        }


def _intent(intent: Intent | None) -> dict[str, Any] | None:
    if intent is None:
        return None
    return {"name": intent.name, "confidence": round(intent.confidence, 4)}
