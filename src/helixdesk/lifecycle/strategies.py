"""The bank's strategies per lifecycle stage: the pack's `lifecycle/strategies.yaml`, validated here.

A strategy says *when* it applies (stages, churn-risk bands, at-risk customers, interests, a
trigger such as `complaint_resolved`), *what* it offers (guidance, care, a retention or goodwill
offer within the bank's limit per offer, a recommendation; a product with its risk level R1-R5),
its texts in zh-Hans, zh-Hant and en, and *where* it may be shown (the bot, at most one touch per
conversation, or the console). A bad file or a bad edit is refused with `invalid_strategies`,
naming the strategy and the field.

What a strategy says is never the last word: `helixdesk.lifecycle.recommend` passes each one through
the suitability gate (`helixdesk.lifecycle.suitability`), whose limits no strategy can set.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from helixdesk.core.errors import ConfigurationError
from helixdesk.lifecycle.packfiles import problems, read_yaml, validated
from helixdesk.packs.loader import Pack

STRATEGIES_FILE = Path("lifecycle") / "strategies.yaml"
CONFIG_ERROR = "invalid_strategies"
LANGUAGES = ("zh-Hans", "zh-Hant", "en")
STAGES = ("exploration", "formation", "stability", "decline")
BANDS = ("low", "medium", "high")
TRIGGERS = ("complaint_resolved", "anniversary", "conversation")
KINDS = ("guidance", "care", "retention_offer", "goodwill_offer", "recommendation")
OFFERS = frozenset({"retention_offer", "goodwill_offer"})
CHANNELS = ("bot", "console")

Identifier = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Model):
    """Every condition given must hold; an empty list is no condition."""

    stages: tuple[Literal["exploration", "formation", "stability", "decline"], ...] = ()
    churn_bands: tuple[Literal["low", "medium", "high"], ...] = ()
    # True: only customers at risk (decline stage or the high churn band); False: only those not.
    at_risk: bool | None = None
    interests: tuple[str, ...] = ()  # any one of these among the customer's interests
    # The strategy applies only on one of these events; none: on any (or none).
    triggers: tuple[Literal["complaint_resolved", "anniversary", "conversation"], ...] = ()


class Item(_Model):
    """What is offered: a product (with its risk level), a service, or news."""

    type: Literal["product", "service", "news"]
    ref: str = Field(min_length=1, max_length=64)
    risk: Literal["R1", "R2", "R3", "R4", "R5"] | None = None

    @model_validator(mode="after")
    def _risk(self) -> Item:
        if self.type == "product" and self.risk is None:
            raise ValueError("a product needs its risk level (risk: R1 to R5)")
        return self


class What(_Model):
    kind: Literal["guidance", "care", "retention_offer", "goodwill_offer", "recommendation"]
    item: Item
    value: Decimal | None = Field(default=None, ge=0, description="An offer's value, CNY.")

    @model_validator(mode="after")
    def _value(self) -> What:
        if self.kind in OFFERS and self.value is None:
            raise ValueError(f"a {self.kind} needs its value (CNY)")
        if self.kind not in OFFERS and self.value is not None:
            raise ValueError("only an offer has a value")
        return self


class Strategy(_Model):
    id: str = Identifier
    when: When = When()
    what: What
    texts: dict[str, str]
    where: tuple[Literal["bot", "console"], ...] = Field(min_length=1)
    enabled: bool = True
    # The share of customers kept out of this strategy to measure its effect (`in_holdout`).
    holdout: float = Field(default=0.0, ge=0.0, le=0.5)

    @field_validator("texts")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [lang for lang in LANGUAGES if not value.get(lang, "").strip()]
        if missing:
            raise ValueError(f"a text in every language is needed, missing: {', '.join(missing)}")
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language {', '.join(unknown)} (zh-Hans, zh-Hant, en)")
        if any(len(t) > 500 for t in value.values()):
            raise ValueError("a text is at most 500 characters")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Strategy:
        kind = self.what.kind
        if kind == "retention_offer" and self.when.at_risk is not True:
            raise ValueError("a retention_offer is for customers at risk: when.at_risk must be true")
        if kind == "goodwill_offer" and (
            self.when.at_risk is not True or "complaint_resolved" not in self.when.triggers
        ):
            raise ValueError("a goodwill_offer needs when.at_risk: true and the trigger complaint_resolved")
        if kind == "recommendation" and not self.when.interests:
            raise ValueError("a recommendation is matched to interests: when.interests is needed")
        return self


class Limits(_Model):
    """The bank's limits on what a strategy may offer."""

    max_offer_value: Decimal = Field(ge=0, description="The highest value of one offer, CNY.")


class StrategySet(_Model):
    limits: Limits
    strategies: tuple[Strategy, ...]

    @model_validator(mode="after")
    def _within_limits(self) -> StrategySet:
        seen: set[str] = set()
        for s in self.strategies:
            if s.id in seen:
                raise ValueError(f"{s.id}: the id is used twice")
            seen.add(s.id)
            check_limits(s, self.limits)
        return self

    def get(self, strategy_id: str) -> Strategy | None:
        return next((s for s in self.strategies if s.id == strategy_id), None)


def in_holdout(strategy: Strategy, customer_ref: str) -> bool:
    """Whether the customer is in the strategy's holdout group: the same answer every time, from a
    hash of the strategy and the customer, so the group is a fixed random share of customers."""
    if strategy.holdout <= 0:
        return False
    digest = hashlib.sha256(f"holdout:{strategy.id}:{customer_ref}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < strategy.holdout


def check_limits(strategy: Strategy, limits: Limits) -> None:
    value = strategy.what.value
    if value is not None and value > limits.max_offer_value:
        raise ValueError(
            f"{strategy.id}: an offer of {value} CNY is above the bank's limit of {limits.max_offer_value} CNY"
        )


def parse_strategies(data: Any, *, source: str = "strategies") -> StrategySet:
    """Validate a mapping as a strategy set; `ConfigurationError` (`invalid_strategies`) if it is not."""
    return validated(StrategySet, data, source=source, code=CONFIG_ERROR)


def parse_strategy(data: Any, limits: Limits, *, source: str = "strategy") -> Strategy:
    """One strategy, as an edit gives it, within the bank's limits."""
    try:
        strategy = Strategy.model_validate(data)
        check_limits(strategy, limits)
    except ValidationError as e:
        raise ConfigurationError(f"{source}: {problems(e)}", code=CONFIG_ERROR) from e
    except ValueError as e:
        raise ConfigurationError(f"{source}: {e}", code=CONFIG_ERROR) from e
    return strategy


def load_strategies(pack: Pack) -> StrategySet:
    """The pack's `lifecycle/strategies.yaml`; a pack without it has no strategies."""
    path = pack.path / STRATEGIES_FILE
    if not path.is_file():
        return StrategySet(limits=Limits(max_offer_value=Decimal(0)), strategies=())
    return parse_strategies(read_yaml(path, code=CONFIG_ERROR), source=str(path))
