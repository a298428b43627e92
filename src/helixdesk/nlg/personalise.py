"""Personal touches from the customer's profile, within suitability rules (pack `nlg/tips.yaml`).

A tip is added after the answer when the customer's interests match the rule and the request
is one of the rule's intents — e.g. a frequent cross-border remitter asking about fees hears
today's exchange rate. A tip that names a product class carries a risk level (R1 lowest .. R5);
it is never offered above the customer's risk tolerance, and never above the elderly cap to an
elderly customer, whatever they asked. Each tip is given at most once per conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
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


class Suitability(_Model):
    max_risk: dict[str, str]
    elderly_age: int = 65
    elderly_max: str = "R2"


class TipPolicy(_Model):
    tips: tuple[TipRule, ...]
    suitability: Suitability


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
    for level in [*policy.suitability.max_risk.values(), policy.suitability.elderly_max]:
        if level not in RISK_LEVELS:
            raise ConfigurationError(f"{path}: unknown risk level {level!r}", code="invalid_tips")
    return policy


def suitable(customer: Customer, product_risk: str, suitability: Suitability, *, today: date) -> bool:
    """May this product class be suggested to this customer at all?"""
    cap = suitability.max_risk.get(customer.risk_tolerance, "R1")
    if customer.age(today) >= suitability.elderly_age:
        cap = min(cap, suitability.elderly_max)
    return RISK_LEVELS.index(product_risk) <= RISK_LEVELS.index(cap)


def pick_tip(
    policy: TipPolicy, customer: Customer | None, intent: str | None, *, given: list[str], today: date
) -> TipRule | None:
    if customer is None or intent is None:
        return None
    interests = set(customer.interests)
    for rule in policy.tips:
        if rule.id in given or intent not in rule.intents:
            continue
        if rule.interests and not interests & set(rule.interests):
            continue
        if rule.product_risk is not None and not suitable(
            customer, rule.product_risk, policy.suitability, today=today
        ):
            continue
        return rule
    return None
