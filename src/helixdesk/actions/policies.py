"""The pack's action policies as typed data: `load_action_policies(pack)` reads `PACK/policies/*.yaml`.

- `policies/fees.yaml`: installment prepayment fee method and effective-date rule.
- `policies/disputes.yaml`: dispute auto-decision rules and routing.
- `policies/bank.yaml`: the bank's UTC offset, holidays and exchange-rate staleness.

Every value is validated at load time; a bad file raises `ConfigurationError` (`invalid_policy`).
"""

from __future__ import annotations

from datetime import date, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from helixdesk.core.errors import ConfigurationError
from helixdesk.packs.loader import Pack

QUEUES = ("fraud", "senior", "relationship_manager", "general")


class _Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PrepaymentPolicy(_Policy):
    method: Literal["remaining_fees", "percent_of_remaining_principal"]
    rate: Decimal = Decimal(0)
    minimum: Decimal = Decimal(0)
    effective: Literal["next_business_day", "next_statement_date"] = "next_business_day"


class FeePolicy(_Policy):
    label: str
    installment_prepayment: PrepaymentPolicy


class DisputeRule(_Policy):
    name: str
    reasons: tuple[str, ...]
    duplicate_within_hours: int | None = None
    require_posted: bool = True
    max_amount: Decimal | None = None
    decision: Literal["approve", "reject"]


class DisputeRouting(_Policy):
    default: str = "general"
    by_reason: dict[str, str] = Field(default_factory=dict)
    senior_above: Decimal | None = None

    @field_validator("default")
    @classmethod
    def _queue(cls, v: str) -> str:
        if v not in QUEUES:
            raise ValueError(f"unknown queue {v!r}; one of {', '.join(QUEUES)}")
        return v

    @field_validator("by_reason")
    @classmethod
    def _queues(cls, v: dict[str, str]) -> dict[str, str]:
        for queue in v.values():
            cls._queue(queue)
        return v


class DisputePolicy(_Policy):
    label: str
    reasons: tuple[str, ...]
    rules: tuple[DisputeRule, ...] = ()
    routing: DisputeRouting = DisputeRouting()


class BankPolicy(_Policy):
    label: str = ""
    utc_offset: str = "+08:00"
    holidays: tuple[date, ...] = ()
    rates_max_age_hours: int = Field(default=24, ge=1)

    @field_validator("utc_offset")
    @classmethod
    def _offset(cls, v: str) -> str:
        _parse_offset(v)
        return v

    @property
    def tz(self) -> timezone:
        return _parse_offset(self.utc_offset)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays


class ActionPolicies(_Policy):
    fees: FeePolicy
    disputes: DisputePolicy
    bank: BankPolicy


def _parse_offset(text: str) -> timezone:
    sign, rest = text[:1], text[1:]
    hours, _, minutes = rest.partition(":")
    if sign not in "+-" or not hours.isdigit() or not (minutes or "0").isdigit():
        raise ValueError(f"utc_offset must look like +08:00, not {text!r}")
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return timezone(-delta if sign == "-" else delta)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigurationError(f"policy file {path} is missing", code="invalid_policy")
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} must hold a mapping", code="invalid_policy")
    return data


def load_action_policies(pack: Pack) -> ActionPolicies:
    """Read and validate `PACK/policies/{fees,disputes,bank}.yaml`."""
    folder = pack.path / "policies"
    try:
        return ActionPolicies(
            fees=FeePolicy.model_validate(_read(folder / "fees.yaml")),
            disputes=DisputePolicy.model_validate(_read(folder / "disputes.yaml")),
            bank=BankPolicy.model_validate(_read(folder / "bank.yaml")),
        )
    except ValidationError as e:
        raise ConfigurationError(f"pack {pack.name}: invalid policy: {e}", code="invalid_policy") from e
