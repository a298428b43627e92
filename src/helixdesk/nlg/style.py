"""Choose a reply style from the customer's profile and the conversation (the empathy opening is
chosen in `helixdesk.nlg.empathy`; its policy is part of the style policy).

Styles (each template may have a variant per style; `warm` is the default):
- `concise`: busy professionals and business owners, or customers who write in a few words;
- `warm`: everyone else;
- `lively`: chatty customers (exclamations, emoji, laughter, long friendly messages);
- `patient`: elderly customers, or anyone who says they do not understand; short sentences, one
  step at a time.

Thresholds are data in the pack (`nlg/style.yaml`), not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from helixdesk.bank.connector import Customer
from helixdesk.core.errors import ConfigurationError
from helixdesk.nlg.empathy import EmpathyPolicy

STYLES = ("concise", "warm", "lively", "patient")

_LIVELY = re.compile(r"[!！~～]{1,}|哈哈|嘻嘻|呵呵|😀|😂|🤣|😊|😄|👍|🙏|❤|lol|haha|:\)|:D", re.IGNORECASE)


@dataclass(frozen=True)
class StylePolicy:
    elderly_age: int = 65
    concise_segments: tuple[str, ...] = ("small_business", "private")
    lively_markers: int = 2
    concise_max_chars: int = 8
    patient_cues: tuple[str, ...] = ()
    empathy: EmpathyPolicy = field(default_factory=EmpathyPolicy)

    @classmethod
    def load(cls, path: Path) -> StylePolicy:
        if not path.is_file():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ConfigurationError(f"{path} must hold a mapping", code="invalid_style_policy")
        try:
            return cls(
                elderly_age=int(data.get("elderly_age", 65)),
                concise_segments=tuple(data.get("concise_segments", ("small_business", "private"))),
                lively_markers=int(data.get("lively_markers", 2)),
                concise_max_chars=int(data.get("concise_max_chars", 8)),
                patient_cues=tuple(str(c).lower() for c in data.get("patient_cues", [])),
                empathy=EmpathyPolicy.from_dict(data.get("empathy"), f"{path}: empathy"),
            )
        except (TypeError, ValueError, AttributeError) as e:
            raise ConfigurationError(f"{path}: {e}", code="invalid_style_policy") from e


@dataclass(frozen=True, slots=True)
class StyleSignals:
    """What the conversation so far says about how this customer writes."""

    lively_markers: int = 0
    customer_messages: int = 0
    total_chars: int = 0
    asked_for_simple: bool = False

    def observe(self, text: str, policy: StylePolicy) -> StyleSignals:
        lowered = text.lower()
        return StyleSignals(
            lively_markers=self.lively_markers + len(_LIVELY.findall(text)),
            customer_messages=self.customer_messages + 1,
            total_chars=self.total_chars + len(text.strip()),
            asked_for_simple=self.asked_for_simple or any(c in lowered for c in policy.patient_cues),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "lively_markers": self.lively_markers,
            "customer_messages": self.customer_messages,
            "total_chars": self.total_chars,
            "asked_for_simple": self.asked_for_simple,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> StyleSignals:
        data = data or {}
        return cls(
            lively_markers=int(data.get("lively_markers", 0)),
            customer_messages=int(data.get("customer_messages", 0)),
            total_chars=int(data.get("total_chars", 0)),
            asked_for_simple=bool(data.get("asked_for_simple", False)),
        )


def choose_style(
    customer: Customer | None, signals: StyleSignals, policy: StylePolicy, *, today: date
) -> str:
    if signals.asked_for_simple:
        return "patient"
    if customer is not None and customer.age(today) >= policy.elderly_age:
        return "patient"
    if signals.lively_markers >= policy.lively_markers:
        return "lively"
    if customer is not None and customer.segment in policy.concise_segments:
        return "concise"
    if (
        signals.customer_messages >= 2
        and signals.total_chars / signals.customer_messages <= policy.concise_max_chars
    ):
        return "concise"
    return "warm"
