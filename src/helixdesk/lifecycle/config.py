"""The lifecycle's thresholds: the pack's `lifecycle/rules.yaml`, validated when loaded.

A pack without the file gets the defaults below (the retail_bank pack's values). A bad file raises
`ConfigurationError` with the code `invalid_lifecycle_config`, naming the file and the field.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helixdesk.lifecycle.packfiles import read_yaml, validated
from helixdesk.packs.loader import Pack

RULES_FILE = Path("lifecycle") / "rules.yaml"
CONFIG_ERROR = "invalid_lifecycle_config"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChurnRules(_Model):
    """When a customer has churned (`helixdesk.lifecycle.churn`)."""

    balance_share: float = Field(default=0.10, gt=0, lt=1)
    balance_window_months: int = Field(default=6, ge=1, le=24)
    min_average_balance: Decimal = Field(default=Decimal("1000.00"), ge=0)
    silent_months: int = Field(default=2, ge=1, le=12)


class StageRules(_Model):
    """The lifecycle stage's thresholds (`helixdesk.lifecycle.stages`)."""

    decline_activity_drop: float = Field(default=0.40, gt=0, le=1)
    decline_balance_drop: float = Field(default=0.50, gt=0, le=1)
    comeback_share: float = Field(default=0.50, gt=0, le=10)
    trend_months: int = Field(default=3, ge=1, le=12)
    exploration_months: int = Field(default=6, ge=1, le=120)
    formation_months: int = Field(default=24, ge=1, le=240)
    depth_window_months: int = Field(default=6, ge=1, le=24)

    @model_validator(mode="after")
    def _ordered(self) -> StageRules:
        if self.exploration_months >= self.formation_months:
            raise ValueError("exploration_months must be below formation_months")
        return self


class Bands(_Model):
    medium: float = Field(default=0.10, gt=0, lt=1)
    high: float = Field(default=0.30, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.medium >= self.high:
            raise ValueError("bands.medium must be below bands.high")
        return self

    def band(self, probability: float) -> str:
        return "high" if probability >= self.high else "medium" if probability >= self.medium else "low"


class ModelSettings(_Model):
    """How the churn-risk model is trained and shown (`helixdesk.lifecycle.training`)."""

    horizon_months: int = Field(default=3, ge=1, le=12)
    cutoff_every_months: int = Field(default=1, ge=1, le=12)
    min_history_months: int = Field(default=3, ge=1, le=24)
    heldout_share: float = Field(default=0.25, gt=0, lt=1)
    calibration_share: float = Field(default=0.25, gt=0, lt=1)
    c: float = Field(default=1.0, gt=0, le=1000)
    bands: Bands = Bands()
    top_reasons: int = Field(default=3, ge=1, le=20)


# The retail_bank pack's interest maps (the defaults, like every threshold here).
SPENDING_INTERESTS = {
    "travel": "travel",
    "digital": "credit_card_rewards",
    "shopping": "credit_card_rewards",
    "fuel": "credit_card_rewards",
}
INTENT_INTERESTS = {
    "cross_border_remittance": "cross_border",
    "exchange_rate": "cross_border",
    "wealth_product_inquiry": "wealth",
    "deposit_interest_rate": "wealth",
    "risk_assessment": "wealth",
    "mortgage_inquiry": "mortgage",
    "loan_application": "mortgage",
    "credit_limit_increase": "credit_card_rewards",
    "card_application": "credit_card_rewards",
}


class ProfileRules(_Model):
    """How the customer profile is derived (`helixdesk.lifecycle.profile`)."""

    # Age bands: each value is the first age of a band (the first band starts at 0).
    age_bands: tuple[int, ...] = (30, 45, 60)
    # Cross-border remittances in the last `remittance_months` months that make them "frequent".
    frequent_remittances: int = Field(default=3, ge=1, le=1000)
    remittance_months: int = Field(default=6, ge=1, le=24)
    # Payroll: arrived in at least this many of the last `payroll_months` months.
    payroll_months: int = Field(default=3, ge=1, le=24)
    payroll_min_months: int = Field(default=2, ge=1, le=24)
    # Card spending categories shown: the largest ones, with at least this share of the spend.
    top_categories: int = Field(default=3, ge=1, le=20)
    min_category_share: float = Field(default=0.15, ge=0, le=1)
    # Writing style from the average length (characters) of the customer's own messages.
    concise_max_chars: int = Field(default=20, ge=1, le=4000)
    chatty_min_chars: int = Field(default=60, ge=1, le=4000)
    # From this age on the customer is served with patience, however they write.
    patience_age: int = Field(default=65, ge=18, le=120)
    # Interests read from behaviour: card spending category -> interest, intent -> interest.
    spending_interests: dict[str, str] = Field(default_factory=lambda: dict(SPENDING_INTERESTS))
    intent_interests: dict[str, str] = Field(default_factory=lambda: dict(INTENT_INTERESTS))

    @model_validator(mode="after")
    def _ordered(self) -> ProfileRules:
        if list(self.age_bands) != sorted(set(self.age_bands)) or any(a <= 0 for a in self.age_bands):
            raise ValueError("age_bands must be increasing positive ages")
        if self.concise_max_chars >= self.chatty_min_chars:
            raise ValueError("concise_max_chars must be below chatty_min_chars")
        if self.payroll_min_months > self.payroll_months:
            raise ValueError("payroll_min_months must not exceed payroll_months")
        return self


class LifecycleConfig(_Model):
    churn: ChurnRules = ChurnRules()
    stages: StageRules = StageRules()
    model: ModelSettings = ModelSettings()
    profile: ProfileRules = ProfileRules()


def parse_lifecycle_config(data: Any, *, source: str = "lifecycle config") -> LifecycleConfig:
    """Validate a mapping as the lifecycle configuration; `ConfigurationError` when it is not one."""
    return validated(LifecycleConfig, {} if data is None else data, source=source, code=CONFIG_ERROR)


def load_lifecycle_config(pack: Pack) -> LifecycleConfig:
    """The pack's `lifecycle/rules.yaml`, or the defaults when the pack has none."""
    path = pack.path / RULES_FILE
    if not path.is_file():
        return LifecycleConfig()
    return parse_lifecycle_config(read_yaml(path, code=CONFIG_ERROR), source=str(path))
