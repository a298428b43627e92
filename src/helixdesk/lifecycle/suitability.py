"""The suitability gate: the last word on whether anything may be offered to a customer.

Every touch — a bot tip, a lifecycle strategy, a recommendation — passes `gate` last, after
whatever chose it. Its rules are fixed here and its limits come from the pack's
`lifecycle/suitability.yaml`, a file the strategy store never writes: no strategy can loosen it.

1. nothing at all while the customer has an open complaint or a fraud report (`blocked`);
2. never a product above the customer's risk tolerance (`max_risk`; an unknown tolerance: R1);
3. never a product above `vulnerable_max` to an elderly (`elderly_age` or more) or vulnerable
   customer.

A touch without a product (guidance, care, news) passes rules 2 and 3; a product with an unknown
risk level never passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from helixdesk.lifecycle.packfiles import read_yaml, validated
from helixdesk.packs.loader import Pack

RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")
SUITABILITY_FILE = Path("lifecycle") / "suitability.yaml"
CONFIG_ERROR = "invalid_suitability"

# Conversations about these mean a complaint or a fraud report is under way: nothing is offered.
COMPLAINT_INTENTS = frozenset({"complaint", "dispute_charge"})
FRAUD_INTENTS = frozenset({"card_fraud_report", "unrecognized_transaction", "card_lost_or_stolen"})


def risk_rank(level: str | None) -> int | None:
    """R1 -> 1 .. R5 -> 5; None for anything else."""
    return RISK_LEVELS.index(level) + 1 if level in RISK_LEVELS else None


class SuitabilityPolicy(BaseModel):
    """The gate's limits (the pack's `lifecycle/suitability.yaml`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_risk: dict[str, str] = Field(
        default_factory=lambda: {
            "conservative": "R2",
            "moderate": "R3",
            "balanced": "R3",
            "growth": "R4",
            "aggressive": "R5",
        }
    )
    elderly_age: int = Field(default=65, ge=50, le=120)
    vulnerable_max: str = "R2"

    @field_validator("max_risk")
    @classmethod
    def _levels(cls, value: dict[str, str]) -> dict[str, str]:
        for tolerance, level in value.items():
            if level not in RISK_LEVELS:
                raise ValueError(f"{tolerance}: unknown risk level {level!r} (R1 to R5)")
        return value

    @model_validator(mode="after")
    def _cap(self) -> SuitabilityPolicy:
        if self.vulnerable_max not in RISK_LEVELS:
            raise ValueError(f"vulnerable_max: unknown risk level {self.vulnerable_max!r} (R1 to R5)")
        return self


@dataclass(frozen=True, slots=True)
class Subject:
    """What the gate needs to know about the customer, and nothing a strategy sets."""

    risk_tolerance: str | None
    age: int | None
    vulnerable: bool = False
    open_complaint: bool = False
    fraud_report: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    rule: str  # ok, blocked, above_tolerance, fragile_cap, unknown_risk

    def __bool__(self) -> bool:
        return self.allowed


def cap(subject: Subject, policy: SuitabilityPolicy) -> int:
    """The highest risk rank that may be offered to this customer (0: nothing with a risk level)."""
    level = risk_rank(policy.max_risk.get(subject.risk_tolerance or "")) or 1
    if subject.vulnerable or (subject.age is not None and subject.age >= policy.elderly_age):
        level = min(level, risk_rank(policy.vulnerable_max) or 1)
    return level


def gate(subject: Subject, product_risk: str | None, policy: SuitabilityPolicy) -> Verdict:
    """May a touch about a product of this risk level (None: no product) reach this customer?"""
    if subject.open_complaint or subject.fraud_report:
        return Verdict(False, "blocked")
    if product_risk is None:
        return Verdict(True, "ok")
    rank = risk_rank(product_risk)
    if rank is None:
        return Verdict(False, "unknown_risk")
    tolerance = risk_rank(policy.max_risk.get(subject.risk_tolerance or "")) or 1
    if rank > tolerance:
        return Verdict(False, "above_tolerance")
    if rank > cap(subject, policy):
        return Verdict(False, "fragile_cap")
    return Verdict(True, "ok")


def parse_suitability(data: Any, *, source: str = "suitability") -> SuitabilityPolicy:
    return validated(SuitabilityPolicy, {} if data is None else data, source=source, code=CONFIG_ERROR)


def load_suitability(pack: Pack) -> SuitabilityPolicy:
    """The pack's `lifecycle/suitability.yaml`, or the defaults above when the pack has none."""
    path = pack.path / SUITABILITY_FILE
    if not path.is_file():
        return SuitabilityPolicy()
    return parse_suitability(read_yaml(path, code=CONFIG_ERROR), source=str(path))
