"""Which customer messages go to the labelling queue, and why (pure: no I/O).

A customer message the bot understood is a candidate for labelling when

- `out_of_scope`: the intent model put it out of scope;
- `low_confidence`: its intent's confidence was below a threshold;
- `corrected`: the customer's next message says the bot got it wrong ("不是这个，我是说…",
  "no, I meant …"; the pack's `learning/corrections.yaml`);
- `handed_over`: it was the customer's last understood message before the bot handed the
  conversation to a person (a bot message of kind `handoff`: the bot's decision, or the customer
  asking for a person).

Each reason has its own sampling rate (a percent, `learning_sample_*` settings): a message is sampled
when it falls in the stable sample of at least one of its reasons (`core.sampling`), so the same
message is sampled, or not, whichever process looks at it and however often. Agents' flags
(`flagged`) are never sampled away.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.sampling import in_stable_sample
from helixdesk.nlu.intent.data import OOS_LABEL

SAMPLED_REASONS: tuple[str, ...] = ("low_confidence", "out_of_scope", "corrected", "handed_over")
REASONS: tuple[str, ...] = (*SAMPLED_REASONS, "flagged")
_LEADING = re.compile(r"^[\s\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SamplingRates:
    """Percent of the messages of each reason that are sampled, and the confidence threshold."""

    low_confidence: float = 20.0
    out_of_scope: float = 20.0
    corrected: float = 100.0
    handed_over: float = 20.0
    confidence_below: float = 0.5

    def percent(self, reason: str) -> float:
        return 100.0 if reason == "flagged" else float(getattr(self, reason))


@dataclass(frozen=True, slots=True)
class Corrections:
    """Phrases with which a customer says the bot misunderstood their previous message."""

    starts: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()

    @classmethod
    def load(cls, pack_path: Path) -> Corrections:
        """The pack's `learning/corrections.yaml` (none: no message counts as a correction)."""
        path = pack_path / "learning" / "corrections.yaml"
        if not path.is_file():
            return cls()
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

        def phrases(key: str) -> tuple[str, ...]:
            by_language = raw.get(key) or {}
            if not isinstance(by_language, dict):
                raise ConfigurationError(f"{path}: {key} must map languages to lists of phrases")
            return tuple(
                dict.fromkeys(str(p).lower() for items in by_language.values() for p in items or () if str(p))
            )

        return cls(starts=phrases("starts"), contains=phrases("contains"))

    def says_misunderstood(self, text: str) -> bool:
        lowered = text.lower()
        head = _LEADING.sub("", lowered)
        return any(head.startswith(p) for p in self.starts) or any(p in lowered for p in self.contains)


@dataclass(frozen=True, slots=True)
class Msg:
    """A message of a conversation as sampling needs it; `nlu` is the bot's record (customer
    messages the bot understood)."""

    id: str
    seq: int
    sender: str
    text: str
    at: datetime
    nlu: Mapping[str, Any] | None = None
    kind: str | None = None  # bot messages: answer, prompt, handoff, ...

    @property
    def intent(self) -> tuple[str | None, float | None]:
        intent = (self.nlu or {}).get("intent") or {}
        name = intent.get("name")
        confidence = intent.get("confidence")
        return (
            str(name) if name is not None else None,
            float(confidence) if confidence is not None else None,
        )


def candidate_reasons(
    messages: Sequence[Msg],
    corrections: Corrections,
    *,
    confidence_below: float,
) -> dict[str, list[str]]:
    """Each understood customer message's reasons to be labelled (message id -> reasons, in the
    order of `SAMPLED_REASONS`); messages without a reason are left out."""
    ordered = sorted(messages, key=lambda m: m.seq)
    customer = [m for m in ordered if m.sender == "customer"]
    found: dict[str, set[str]] = {}
    for m in customer:
        name, confidence = m.intent
        if name is None:
            continue
        if name == OOS_LABEL:
            found.setdefault(m.id, set()).add("out_of_scope")
        elif confidence is not None and confidence < confidence_below:
            found.setdefault(m.id, set()).add("low_confidence")
    for earlier, later in itertools.pairwise(customer):
        if earlier.intent[0] is not None and corrections.says_misunderstood(later.text):
            found.setdefault(earlier.id, set()).add("corrected")
    for handover in (m for m in ordered if m.sender == "bot" and m.kind == "handoff"):
        before = [m for m in customer if m.seq < handover.seq and m.intent[0] is not None]
        if before:
            found.setdefault(before[-1].id, set()).add("handed_over")
    return {mid: [r for r in SAMPLED_REASONS if r in reasons] for mid, reasons in found.items()}


def sampled_reasons(message_id: str, reasons: Sequence[str], rates: SamplingRates) -> list[str]:
    """The reasons of a message that put it in the sample (empty: not sampled)."""
    return [r for r in reasons if in_stable_sample(f"learning:{r}:{message_id}", rates.percent(r))]


def needs_two(message_id: str, percent: float) -> bool:
    """Whether an item is in the stable sample labelled by two annotators independently."""
    return in_stable_sample(f"learning:double:{message_id}", percent)
