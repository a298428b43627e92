"""What every business action shares: typed models, the run context, the action spec, errors, audit.

An action is a function `handler(ctx: ActionContext, params: InputModel) -> OutputModel`, described
by an `ActionSpec` (name, input and output types, whether it changes state). Inputs and outputs are
frozen pydantic models with `Decimal` money and `date`/`datetime` values, so they validate, serialise
to JSON exactly (`Decimal` as text) and load back (idempotent replays).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.models import ActionAudit
from helixdesk.actions.policies import ActionPolicies
from helixdesk.bank.connector import BankConnector, Customer
from helixdesk.core.errors import AppError, ConflictError, NotFoundError, ValidationFailedError
from helixdesk.privacy.masking import mask_text, scrub


class ActionInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionOutput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


In = TypeVar("In", bound=ActionInput)
Out = TypeVar("Out", bound=ActionOutput)


# --- errors (stable codes; see docs/actions.md) ---------------------------------------------------


class UnknownActionError(NotFoundError):
    code = "unknown_action"


class InvalidParamsError(ValidationFailedError):
    code = "invalid_params"


class ConfirmationRequiredError(ConflictError):
    """A state-changing action was run without `confirmed=True`: ask the customer first."""

    code = "confirmation_required"


class ActionInProgressError(ConflictError):
    """Another run with the same idempotency key has not finished yet; retry later."""

    code = "action_in_progress"


class IdempotencyKeyReusedError(ConflictError):
    """The key was used before for another action, customer or input."""

    code = "idempotency_key_reused"


class ActionNotFoundError(NotFoundError):
    """A record the action needs does not exist; `code` says which (card_not_found, plan_not_found…)."""


# --- context and spec -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionContext:
    bank: BankConnector
    sessions: sessionmaker[Session]
    policies: ActionPolicies
    now: datetime
    customer_ref: str | None
    conversation_id: str | None
    idempotency_key: str | None

    def customer(self) -> Customer:
        """The customer the action runs for; `customer_required` / `customer_not_found` otherwise."""
        if not self.customer_ref:
            raise InvalidParamsError("this action needs a verified customer", code="customer_required")
        customer = self.bank.get_customer(self.customer_ref)
        if customer is None:
            raise ActionNotFoundError(f"no customer {self.customer_ref}", code="customer_not_found")
        return customer


@dataclass(frozen=True, slots=True)
class ActionSpec(Generic[In, Out]):
    name: str
    input: type[In]
    output: type[Out]
    handler: Callable[[ActionContext, In], Out]
    changes_state: bool = False
    needs_customer: bool = True
    summarise: Callable[[Out], str] | None = None


# --- JSON and audit --------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """Decimals as exact text, dates as ISO text, models and mappings as dicts."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime) or hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(json_safe(value), ensure_ascii=False, sort_keys=True)


def add_audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    customer_ref: str | None,
    conversation_id: str | None,
    params: Mapping[str, Any],
    status: str,
    summary: str,
    error: AppError | None = None,
    idempotency_key: str | None = None,
) -> None:
    session.add(
        ActionAudit(
            at=at,
            actor=actor,
            customer_ref=customer_ref,
            conversation_id=conversation_id,
            action=action,
            input_json=dumps(scrub(json_safe(params))),
            status=status,
            error_code=None if error is None else error.code,
            summary=mask_text(summary[:2000]).text,
            idempotency_key=idempotency_key,
        )
    )
