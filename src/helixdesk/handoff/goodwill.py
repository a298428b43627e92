"""Goodwill compensation within the pack's limits.

The pack sets the limits (`PACK/policies/goodwill.yaml`): the currency, the most per conversation,
the most per customer within a window of days, the reasons, and how much an agent may approve
alone. A supervisor approves any amount within the limits; an agent approves up to the agent limit
in a conversation they are handling, and asks for more (a supervisor then approves or rejects it).

An approved amount is credited to the customer's account through the bank's connector
(`BankConnector.post_credit`, idempotent by the credit's reference), audited, and the customer is
told in the conversation, in their language. A connector that cannot post credits leaves it
approved for the bank's back office to pay. Anything over a limit is refused with
`goodwill_over_limit`, and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import anyio
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helixdesk.audit import Actor
from helixdesk.audit.context import staff_actor
from helixdesk.auth.service import StaffView
from helixdesk.bank.connector import BankConnector
from helixdesk.bank.money import from_minor, to_minor
from helixdesk.conversations.models import Conversation, Customer, Sender
from helixdesk.conversations.writer import NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import (
    AppError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    ValidationFailedError,
)
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.common import Desk, own, record, record_as
from helixdesk.handoff.errors import GoodwillOverLimitError, SupervisorOnlyError
from helixdesk.handoff.models import GOODWILL_COUNTED, GoodwillCredit, GoodwillStatus
from helixdesk.handoff.workspace import AgentWorkspace

ACCOUNT_KINDS = ("current", "savings")  # goodwill is paid into an everyday account, never a card


class GoodwillPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = ""
    currency: str = Field(min_length=3, max_length=3)
    max_per_conversation: Decimal = Field(gt=0)
    max_per_customer: Decimal = Field(gt=0)
    window_days: int = Field(default=30, ge=1, le=366)
    agent_limit: Decimal = Field(default=Decimal(0), ge=0)
    reasons: tuple[str, ...] = Field(min_length=1)

    def view(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "max_per_conversation": str(self.max_per_conversation),
            "max_per_customer": str(self.max_per_customer),
            "window_days": self.window_days,
            "agent_limit": str(self.agent_limit),
            "reasons": list(self.reasons),
        }


def load_goodwill_policy(pack_path: Path) -> GoodwillPolicy | None:
    """`PACK/policies/goodwill.yaml`'s `goodwill:` section; None when the pack offers no goodwill."""
    path = pack_path / "policies" / "goodwill.yaml"
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = data.get("goodwill") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ConfigurationError(f"{path} must hold a `goodwill:` mapping", code="invalid_policy")
    try:
        return GoodwillPolicy.model_validate(section)
    except ValidationError as e:
        raise ConfigurationError(f"{path}: invalid goodwill policy: {e}", code="invalid_policy") from e


class Goodwill:
    def __init__(
        self,
        desk: Desk,
        *,
        bank: BankConnector,
        workspace: AgentWorkspace | None = None,
        policy: GoodwillPolicy | None,
    ) -> None:
        self._desk = desk
        self._bank = bank
        self._workspace = workspace
        self.policy = policy

    # ---- asking and approving -------------------------------------------------------------------

    async def grant(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        amount: Decimal | str,
        reason: str,
        note: str = "",
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Approve `amount` (a supervisor, or an agent up to the agent limit) or ask for it."""
        policy = self._policy()
        minor = _minor(amount, policy.currency)
        if reason not in policy.reasons:
            raise ValidationFailedError(
                f"reason must be one of {', '.join(policy.reasons)}", code="invalid_goodwill_reason"
            )
        when = now or utcnow()
        credit_id = await anyio.to_thread.run_sync(
            lambda: self._ask(user, conversation_id, minor, reason, note.strip()[:1000], when)
        )
        return await self._settle(user, credit_id, when)

    async def approve(
        self, user: StaffView, credit_id: str, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """A supervisor approves an agent's request (or credits again one the bank refused before)."""
        if not user.is_supervisor:
            raise SupervisorOnlyError("only a supervisor may approve goodwill above the agent limit")
        when = now or utcnow()
        await anyio.to_thread.run_sync(self._approve, user, credit_id, when)
        return await self._settle(user, credit_id, when)

    async def reject(self, user: StaffView, credit_id: str, *, note: str = "") -> dict[str, Any]:
        if not user.is_supervisor:
            raise SupervisorOnlyError("only a supervisor may reject a goodwill request")
        out = await anyio.to_thread.run_sync(self._reject, user, credit_id, note.strip()[:1000], utcnow())
        self._desk.committed()
        return out

    # ---- reading --------------------------------------------------------------------------------

    def for_conversation(self, user: StaffView, conversation_id: str) -> list[dict[str, Any]]:
        assert self._workspace is not None, "reading a conversation's goodwill needs the agent workspace"
        with reading(self._desk.sessions) as s:
            self._workspace.check_open(s, user, conversation_id)
            rows = s.scalars(
                select(GoodwillCredit)
                .where(GoodwillCredit.conversation_id == conversation_id)
                .order_by(GoodwillCredit.created_at)
            )
            return [credit_data(r) for r in rows]

    def waiting(self, user: StaffView) -> list[dict[str, Any]]:
        """Requests waiting for a supervisor's decision, oldest first."""
        if not user.is_supervisor:
            raise SupervisorOnlyError("only a supervisor decides on goodwill requests")
        with reading(self._desk.sessions) as s:
            rows = s.scalars(
                select(GoodwillCredit)
                .where(GoodwillCredit.status == GoodwillStatus.PENDING.value)
                .order_by(GoodwillCredit.created_at)
                .limit(200)
            )
            return [credit_data(r) for r in rows]

    # ---- the steps ------------------------------------------------------------------------------

    def _policy(self) -> GoodwillPolicy:
        if self.policy is None:
            raise ConflictError(
                "this bank's pack offers no goodwill compensation", code="goodwill_not_offered"
            )
        return self.policy

    def _ask(
        self, user: StaffView, conversation_id: str, minor: int, reason: str, note: str, now: datetime
    ) -> str:
        policy = self._policy()
        desk = self._desk
        with transaction(desk.sessions) as s:
            if not user.is_supervisor:
                own(s, user, conversation_id)  # an agent: only in a conversation they are handling
            conv = desk.writer.lock(s, conversation_id)
            customer = s.scalar(select(Customer).where(Customer.id == conv.customer_id).with_for_update())
            if customer is None or customer.bank_ref is None:
                raise ValidationFailedError(
                    "the customer is not known to the bank: there is no account to credit",
                    code="goodwill_needs_customer",
                )
            self._check_limits(s, conv, minor, now)
            approved = user.is_supervisor or minor <= to_minor(policy.agent_limit, policy.currency)
            credit = GoodwillCredit(
                conversation_id=conv.id,
                customer_id=conv.customer_id,
                amount_minor=minor,
                currency=policy.currency,
                reason=reason,
                note=desk.writer.privacy.mask(note).text if note else "",
                status=(GoodwillStatus.APPROVED if approved else GoodwillStatus.PENDING).value,
                requested_by=user.id,
                requested_by_name=user.display_name,
                decided_by=user.id if approved else None,
                decided_by_name=user.display_name if approved else None,
                created_at=now,
                decided_at=now if approved else None,
            )
            s.add(credit)
            s.flush()
            record(
                desk,
                s,
                user,
                "goodwill.approved" if approved else "goodwill.requested",
                conv.id,
                reason=credit.note[:500],
                details=_details(credit),
            )
            return credit.id

    def _check_limits(self, s: Session, conv: Conversation, minor: int, now: datetime) -> None:
        """Refuse an amount that takes the conversation or the customer over the pack's limits."""
        policy = self._policy()
        counted = GoodwillCredit.status.in_(GOODWILL_COUNTED)
        in_conversation = s.scalar(
            select(func.coalesce(func.sum(GoodwillCredit.amount_minor), 0)).where(
                GoodwillCredit.conversation_id == conv.id, counted
            )
        )
        in_window = s.scalar(
            select(func.coalesce(func.sum(GoodwillCredit.amount_minor), 0)).where(
                GoodwillCredit.customer_id == conv.customer_id,
                GoodwillCredit.created_at >= now - timedelta(days=policy.window_days),
                counted,
            )
        )
        cur = policy.currency
        for used, limit, where in (
            (int(in_conversation or 0), policy.max_per_conversation, "in one conversation"),
            (int(in_window or 0), policy.max_per_customer, f"to one customer in {policy.window_days} days"),
        ):
            if used + minor > to_minor(limit, cur):
                raise GoodwillOverLimitError(
                    f"{from_minor(minor, cur)} {cur} is over the limit of {limit} {cur} {where} "
                    f"({from_minor(used, cur)} {cur} given or asked for already)"
                )

    def _approve(self, user: StaffView, credit_id: str, now: datetime) -> None:
        desk = self._desk
        with transaction(desk.sessions) as s:
            credit = self._lock(s, credit_id)
            retry = credit.status in (GoodwillStatus.APPROVED.value, GoodwillStatus.FAILED.value)
            if credit.status != GoodwillStatus.PENDING.value and not retry:
                raise ConflictError(
                    f"this goodwill request is {credit.status} already", code="goodwill_decided"
                )
            if credit.status == GoodwillStatus.FAILED.value:
                # Counted again from now on: the limits must still hold.
                conv = desk.writer.lock(s, credit.conversation_id)
                self._check_limits(s, conv, credit.amount_minor, now)
            credit.status = GoodwillStatus.APPROVED.value
            credit.decided_by, credit.decided_by_name, credit.decided_at = user.id, user.display_name, now
            record(desk, s, user, "goodwill.approved", credit.conversation_id, details=_details(credit))

    def _reject(self, user: StaffView, credit_id: str, note: str, now: datetime) -> dict[str, Any]:
        desk = self._desk
        with transaction(desk.sessions) as s:
            credit = self._lock(s, credit_id)
            if credit.status != GoodwillStatus.PENDING.value:
                raise ConflictError(
                    f"this goodwill request is {credit.status} already", code="goodwill_decided"
                )
            credit.status = GoodwillStatus.REJECTED.value
            credit.decided_by, credit.decided_by_name, credit.decided_at = user.id, user.display_name, now
            masked = desk.writer.privacy.mask(note).text if note else ""
            record(
                desk,
                s,
                user,
                "goodwill.rejected",
                credit.conversation_id,
                reason=masked,
                details=_details(credit),
            )
            return credit_data(credit)

    def _lock(self, s: Session, credit_id: str) -> GoodwillCredit:
        credit = s.scalar(select(GoodwillCredit).where(GoodwillCredit.id == credit_id).with_for_update())
        if credit is None:
            raise NotFoundError(f"no goodwill request {credit_id}", code="goodwill_not_found")
        return credit

    async def _settle(self, user: StaffView, credit_id: str, now: datetime) -> dict[str, Any]:
        """An approved credit is posted through the bank's connector and the customer is told."""
        out = await anyio.to_thread.run_sync(self._pay, staff_actor(user.id), credit_id, now)
        self._desk.committed()
        return out

    # ---- offers a strategy makes (no person asks) -------------------------------------------------

    def offer_in(
        self, s: Session, conversation_id: str, *, amount: Decimal, reason: str, by: str, now: datetime
    ) -> str:
        """Approve a credit a strategy offers (`by`: its name, e.g. `strategy:goodwill_after_complaint`)
        inside the caller's transaction, within the pack's limits (`goodwill_over_limit` otherwise,
        before anything is written); returns the credit's id. Pay it with `settle_offer` once the
        transaction has committed."""
        policy = self._policy()
        if reason not in policy.reasons:
            raise ValidationFailedError(
                f"reason must be one of {', '.join(policy.reasons)}", code="invalid_goodwill_reason"
            )
        minor = _minor(amount, policy.currency)
        desk = self._desk
        conv = desk.writer.lock(s, conversation_id, open_only=False)
        customer = s.scalar(select(Customer).where(Customer.id == conv.customer_id).with_for_update())
        if customer is None or customer.bank_ref is None:
            raise ValidationFailedError(
                "the customer is not known to the bank: there is no account to credit",
                code="goodwill_needs_customer",
            )
        self._check_limits(s, conv, minor, now)
        credit = GoodwillCredit(
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            amount_minor=minor,
            currency=policy.currency,
            reason=reason,
            note="",
            status=GoodwillStatus.APPROVED.value,
            requested_by=None,
            requested_by_name=by,
            decided_by=None,
            decided_by_name=by,
            created_at=now,
            decided_at=now,
        )
        s.add(credit)
        s.flush()
        record_as(desk, s, Actor.system(by), "goodwill.approved", conv.id, details=_details(credit))
        return credit.id

    def settle_offer(self, credit_id: str, *, by: str, now: datetime) -> dict[str, Any]:
        """Pay an approved credit a strategy offered (the same bank reference on every retry, so it
        is paid once); a credit paid or failed already is returned as it stands."""
        with reading(self._desk.sessions) as s:
            credit = s.get(GoodwillCredit, credit_id)
            if credit is None:
                raise NotFoundError(f"no goodwill request {credit_id}", code="goodwill_not_found")
            if credit.status != GoodwillStatus.APPROVED.value or credit.account is not None:
                return credit_data(credit)
        try:
            out = self._pay(Actor.system(by), credit_id, now)
        finally:
            self._desk.committed()
        return out

    def _pay(self, actor: Actor, credit_id: str, now: datetime) -> dict[str, Any]:
        desk = self._desk
        with reading(desk.sessions) as s:
            credit = s.get(GoodwillCredit, credit_id)
            assert credit is not None
            if credit.status != GoodwillStatus.APPROVED.value:
                return credit_data(credit)  # waiting for a supervisor
            ref = s.scalar(select(Customer.bank_ref).where(Customer.id == credit.customer_id))
            amount, currency = from_minor(credit.amount_minor, credit.currency), credit.currency
        assert ref is not None
        account = next(
            (
                a
                for kind in ACCOUNT_KINDS
                for a in self._bank.list_accounts(ref)
                if a.kind == kind and a.currency == currency and a.status == "active"
            ),
            None,
        )
        posted: str | None = None
        failure: AppError | None = None
        if account is None:
            failure = ConflictError(
                f"the customer holds no active {currency} current or savings account",
                code="no_account_for_goodwill",
            )
        else:
            try:
                posted = self._bank.post_credit(
                    ref,
                    ref=bank_ref(credit_id),
                    account_number=account.number,
                    amount=amount,
                    currency=currency,
                    merchant="Goodwill credit",
                    description=f"goodwill compensation ({credit.reason})",
                    occurred_at=now,
                ).ref
            except NotImplementedError:
                posted = None  # this bank pays goodwill from its back office
            except AppError as e:
                failure = e
        with transaction(desk.sessions) as s:
            row = self._lock(s, credit_id)
            if failure is not None:
                row.status = GoodwillStatus.FAILED.value
                record_as(
                    desk,
                    s,
                    actor,
                    "goodwill.failed",
                    row.conversation_id,
                    reason=failure.code,
                    details=_details(row),
                )
            else:
                row.account = "****" + account.number[-4:] if account is not None else None
                row.transaction_ref = posted
                if posted is not None:
                    row.status = GoodwillStatus.CREDITED.value
                    record_as(desk, s, actor, "goodwill.credited", row.conversation_id, details=_details(row))
                self._tell_customer(s, row)
            out = credit_data(row)
        if failure is not None:
            raise failure
        return out

    def _tell_customer(self, s: Session, credit: GoodwillCredit) -> None:
        """A system message in the conversation, in the customer's language (if it is still open)."""
        desk = self._desk
        conv = desk.writer.lock(s, credit.conversation_id, open_only=False)
        if conv.closed_at is not None:
            return
        language = language_or_default(conv.language)
        key = "goodwill.credited" if credit.status == GoodwillStatus.CREDITED.value else "goodwill.approved"
        text = desk.templates.render(
            key,
            language=language,
            amount=from_minor(credit.amount_minor, credit.currency),
            currency=credit.currency,
        )
        desk.writer.append(s, conv, NewMessage(sender=Sender.SYSTEM, text=text, meta={"kind": "goodwill"}))


def bank_ref(credit_id: str) -> str:
    """The credit's reference at the bank (32 characters at most): the same for every retry."""
    return "GW" + credit_id.replace("-", "").upper()[:24]


def _minor(amount: Decimal | str, currency: str) -> int:
    try:
        value = Decimal(str(amount))
        minor = to_minor(value, currency)
    except (InvalidOperation, ValueError) as e:
        raise ValidationFailedError(
            f"the amount must be a number with at most 2 decimals, not {amount!r}", code="invalid_amount"
        ) from e
    if minor <= 0:
        raise ValidationFailedError("the amount must be more than zero", code="invalid_amount")
    return minor


def _details(credit: GoodwillCredit) -> dict[str, Any]:
    return {
        "credit_id": credit.id,
        "amount": str(from_minor(credit.amount_minor, credit.currency)),
        "currency": credit.currency,
        "reason": credit.reason,
        "status": credit.status,
        "transaction_ref": credit.transaction_ref,
    }


def credit_data(credit: GoodwillCredit) -> dict[str, Any]:
    return {
        "id": credit.id,
        "conversation_id": credit.conversation_id,
        "amount": str(from_minor(credit.amount_minor, credit.currency)),
        "currency": credit.currency,
        "reason": credit.reason,
        "note": credit.note,
        "status": credit.status,
        "requested_by": credit.requested_by_name,
        "decided_by": credit.decided_by_name,
        "account": credit.account,
        "transaction_ref": credit.transaction_ref,
        "created_at": credit.created_at.isoformat(),
        "decided_at": credit.decided_at.isoformat() if credit.decided_at else None,
    }
