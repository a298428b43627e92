"""Card actions that change state (confirmation required): freeze_card, request_card_reissue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from helixdesk.actions.base import (
    ActionContext,
    ActionInput,
    ActionNotFoundError,
    ActionOutput,
    ActionSpec,
    InvalidParamsError,
)
from helixdesk.bank.connector import Card


class FreezeInput(ActionInput):
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    reason: Literal["lost", "stolen", "fraud"]


class FreezeResult(ActionOutput):
    card_last4: str
    card_kind: str
    product: str
    previous_status: str
    status: str
    changed: bool
    reason: str
    frozen_at: datetime
    reissue_available: bool
    route: str | None  # queue to hand over to after freezing (fraud), or None
    next_steps: tuple[str, ...]


def pick_card(ctx: ActionContext, last4: str | None) -> Card:
    """The customer's card by tail, or their only usable card when no tail is given."""
    customer = ctx.customer()
    cards = [c for c in ctx.bank.list_cards(customer.ref) if c.status != "cancelled"]
    if last4 is not None:
        for c in cards:
            if c.last4 == last4:
                return c
        raise ActionNotFoundError(f"no card ending {last4}", code="card_not_found")
    if len(cards) == 1:
        return cards[0]
    if not cards:
        raise ActionNotFoundError("the customer has no card", code="card_not_found")
    tails = ", ".join(c.last4 for c in cards)
    raise InvalidParamsError(f"which card? the customer has cards ending {tails}", code="card_ambiguous")


def freeze_card(ctx: ActionContext, p: FreezeInput) -> FreezeResult:
    card = pick_card(ctx, p.card_last4)
    updated = (
        card if card.status == "frozen" else ctx.bank.set_card_status(card.customer_ref, card.last4, "frozen")
    )
    steps = ["request_card_reissue"]
    if p.reason in ("stolen", "fraud"):
        steps = ["review_recent_transactions", "human_agent", *steps]
    return FreezeResult(
        card_last4=updated.last4,
        card_kind=updated.kind,
        product=updated.product,
        previous_status=card.status,
        status=updated.status,
        changed=card.status != updated.status,
        reason=p.reason,
        frozen_at=ctx.now,
        reissue_available=True,
        route="fraud" if p.reason in ("stolen", "fraud") else None,
        next_steps=tuple(steps),
    )


class ReissueInput(ActionInput):
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")


class ReissueResult(ActionOutput):
    old_card_last4: str
    old_card_status: str
    new_card_last4: str
    new_card_status: str
    product: str
    expected_delivery: date
    next_steps: tuple[str, ...]


def request_card_reissue(ctx: ActionContext, p: ReissueInput) -> ReissueResult:
    card = pick_card(ctx, p.card_last4)
    done = ctx.bank.request_card_reissue(
        card.customer_ref, card.last4, requested_on=ctx.now.astimezone(ctx.policies.bank.tz).date()
    )
    return ReissueResult(
        old_card_last4=done.old_card.last4,
        old_card_status=done.old_card.status,
        new_card_last4=done.new_card.last4,
        new_card_status=done.new_card.status,
        product=done.new_card.product,
        expected_delivery=done.expected_delivery,
        next_steps=("activate_on_arrival",),
    )


SPECS: tuple[ActionSpec, ...] = (  # type: ignore[type-arg]
    ActionSpec(
        "freeze_card",
        FreezeInput,
        FreezeResult,
        freeze_card,
        changes_state=True,
        summarise=lambda r: f"card {r.card_last4} {r.previous_status} -> {r.status} ({r.reason})",
    ),
    ActionSpec(
        "request_card_reissue",
        ReissueInput,
        ReissueResult,
        request_card_reissue,
        changes_state=True,
        summarise=lambda r: (
            f"card {r.old_card_last4} replaced by {r.new_card_last4}, delivery {r.expected_delivery}"
        ),
    ),
)
