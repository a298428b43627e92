"""Personal touches from the customer's profile (pack `nlg/tips.yaml`).

A tip is added after the answer when the customer's interests match the rule and the request
is one of the rule's intents — e.g. a frequent cross-border remitter asking about fees hears
today's exchange rate. A tip that names a product class carries a risk level (R1 lowest .. R5).
Whether a tip may reach this customer at all is not decided here: the caller passes `allowed`,
the one suitability gate (`helixdesk.lifecycle.suitability.gate`), which `pick_tip` asks last.
Each tip is given at most once per conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helixdesk.bank.connector import Customer
from helixdesk.core.errors import ConfigurationError

RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TipRule(_Model):
    id: str
    intents: tuple[str, ...]
    interests: tuple[str, ...] = ()
    template: str
    action: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    product_risk: str | None = None


class TipPolicy(_Model):
    tips: tuple[TipRule, ...]


@dataclass(frozen=True, slots=True)
class Tip:
    rule: TipRule
    values: dict[str, Any] = field(default_factory=dict)


def load_tips(path: Path) -> TipPolicy:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        policy = TipPolicy.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise ConfigurationError(f"{path}: {e}", code="invalid_tips") from e
    for rule in policy.tips:
        if rule.product_risk is not None and rule.product_risk not in RISK_LEVELS:
            raise ConfigurationError(
                f"{path}: {rule.id}: unknown risk level {rule.product_risk!r}", code="invalid_tips"
            )
    return policy


def pick_tip(
    policy: TipPolicy,
    customer: Customer | None,
    intent: str | None,
    *,
    given: list[str],
    allowed: Callable[[TipRule], bool],
) -> TipRule | None:
    """The first tip whose intents and interests match that the suitability gate lets through."""
    if customer is None or intent is None:
        return None
    interests = set(customer.interests)
    for rule in policy.tips:
        if rule.id in given or intent not in rule.intents:
            continue
        if rule.interests and not interests & set(rule.interests):
            continue
        if not allowed(rule):  # the gate, last
            continue
        return rule
    return None
