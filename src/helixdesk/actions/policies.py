"""The pack's action policies as typed data: `load_action_policies(pack)` reads `PACK/policies/*.yaml`.

- `policies/fees.yaml`: installment prepayment fee method and effective-date rule.
- `policies/disputes.yaml`: dispute auto-decision rules and routing.
- `policies/bank.yaml`: the bank's time zone, holidays and exchange-rate staleness.

Every value is validated at load time; a bad file raises `ConfigurationError` (`invalid_policy`).
"""

from __future__ import annotations

from datetime import date, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.timezones import DEFAULT_TIMEZONE, fixed_offset, offset_text, parse_offset, zone
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
    """Facts about the bank. `timezone` (IANA) is the bank's local time: customers' "today", "this
    month" and every time a reply shows are read in it. `utc_offset` is the older, fixed form: alone
    it still works (a fixed offset, no summer time); with `timezone` it must agree with the zone."""

    label: str = ""
    timezone: str = DEFAULT_TIMEZONE
    utc_offset: str | None = None
    holidays: tuple[date, ...] = ()
    rates_max_age_hours: int = Field(default=24, ge=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        zone(v)  # UnknownTimeZoneError (a ValueError) names the value
        return v

    @field_validator("utc_offset")
    @classmethod
    def _offset(cls, v: str | None) -> str | None:
        if v is not None:
            parse_offset(v)
        return v

    @model_validator(mode="after")
    def _one_clock(self) -> BankPolicy:
        if self.utc_offset is None or "timezone" not in self.model_fields_set:
            return self
        offset = parse_offset(self.utc_offset).utcoffset(None)
        fixed = fixed_offset(zone(self.timezone))
        if fixed != offset:
            zone_offset = "changes with summer time" if fixed is None else f"is {offset_text(fixed)}"
            raise ValueError(
                f"utc_offset {self.utc_offset} disagrees with timezone {self.timezone} (its offset "
                f"{zone_offset}); set only timezone"
            )
        return self

    @property
    def tz(self) -> tzinfo:
        """The bank's zone: the IANA zone, or a fixed offset for a pack that only gives `utc_offset`."""
        if self.utc_offset is not None and "timezone" not in self.model_fields_set:
            return parse_offset(self.utc_offset)
        return zone(self.timezone)

    @property
    def zone_name(self) -> str:
        """The IANA name, or `UTC+08:00` for a fixed offset."""
        if self.utc_offset is not None and "timezone" not in self.model_fields_set:
            return f"UTC{self.utc_offset}"
        return self.timezone

    def in_zone(self, name: str) -> BankPolicy:
        """The same policy in another zone (the `bank_timezone` setting overrides the pack)."""
        data = self.model_dump(exclude={"utc_offset"})
        data["timezone"] = name
        return BankPolicy.model_validate(data)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays


class ActionPolicies(_Policy):
    fees: FeePolicy
    disputes: DisputePolicy
    bank: BankPolicy


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigurationError(f"policy file {path} is missing", code="invalid_policy")
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} must hold a mapping", code="invalid_policy")
    return data


def load_action_policies(pack: Pack, *, timezone: str | None = None) -> ActionPolicies:
    """Read and validate `PACK/policies/{fees,disputes,bank}.yaml`; `timezone` (the
    `bank_timezone` setting) replaces the pack's zone when given."""
    folder = pack.path / "policies"
    try:
        bank = BankPolicy.model_validate(_read(folder / "bank.yaml"))
        if timezone is not None:
            bank = bank.in_zone(timezone)
        return ActionPolicies(
            fees=FeePolicy.model_validate(_read(folder / "fees.yaml")),
            disputes=DisputePolicy.model_validate(_read(folder / "disputes.yaml")),
            bank=bank,
        )
    except ValidationError as e:
        raise ConfigurationError(f"pack {pack.name}: invalid policy: {e}", code="invalid_policy") from e
