"""Charge disputes and refunds: open_dispute (confirmation required) and get_refund_status.

open_dispute finds the transaction (by ref, or from hints with one clear best match; for "charged
twice", identical charges close in time are one duplicate pair and the later one is disputed), records a
dispute (one per customer and transaction: opening it again returns the same dispute), then applies
the pack's rules (`policies/disputes.yaml`) in order. A rule that approves posts the credit through
the bank connector with ref `RF` + dispute ref (so it can never be posted twice); a dispute no rule
decides is `pending_review` with the `route` (queue) it goes to.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helixdesk.actions.accounts import SCAN_LIMIT, duplicate_window_hours
from helixdesk.actions.base import (
    ActionContext,
    ActionInput,
    ActionNotFoundError,
    ActionOutput,
    ActionSpec,
    InvalidParamsError,
)
from helixdesk.actions.lookup import (
    Hints,
    TransactionInfo,
    find_duplicate_of,
    merchant_score,
    rank,
    transaction_info,
)
from helixdesk.actions.models import Dispute
from helixdesk.actions.policies import DisputePolicy, DisputeRule
from helixdesk.bank.connector import Transaction
from helixdesk.bank.money import from_minor, to_minor
from helixdesk.db.session import transaction

Reason = Literal["duplicate_charge", "not_received", "wrong_amount", "unrecognised", "other"]


class DisputeInput(ActionInput):
    reason: Reason
    transaction_ref: str | None = Field(default=None, max_length=32)
    amount: Decimal | None = None
    date: dt.date | None = None
    merchant: str | None = Field(default=None, min_length=1, max_length=128)
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    note: str = Field(default="", max_length=1000)


class DisputeResult(ActionOutput):
    dispute_ref: str
    transaction: TransactionInfo
    reason: str
    amount: Decimal
    currency: str
    status: str  # opened, approved, pending_review, rejected
    decided_by: str | None  # rule, human
    rule: str | None
    route: str | None
    duplicate_of: str | None
    refund_transaction_ref: str | None
    created_at: dt.datetime
    already_open: bool
    next_steps: tuple[str, ...]


def _find_transaction(ctx: ActionContext, p: DisputeInput, txns: list[Transaction]) -> Transaction:
    if p.transaction_ref is not None:
        for t in txns:
            if t.ref == p.transaction_ref:
                return t
        raise ActionNotFoundError(f"no transaction {p.transaction_ref}", code="transaction_not_found")
    hints = Hints(amount=p.amount, day=p.date, merchant=p.merchant, card_last4=p.card_last4)
    if not hints.any():
        raise InvalidParamsError(
            "give the transaction ref, or its amount, date or merchant", code="hint_required"
        )
    ranked = rank(txns, hints, ctx.policies.bank.tz)
    if not ranked:
        raise ActionNotFoundError("no transaction matches those details", code="no_matching_transaction")
    if p.reason == "duplicate_charge":
        # "Charged twice": the repeat among the charges that match the hints is the one disputed.
        matching = rank(txns, hints, ctx.policies.bank.tz, limit=len(txns))
        repeat = duplicate_pair([r[0] for r in matching], within_hours=duplicate_window_hours(ctx))
        if repeat is not None:
            return repeat
    top = [r[0] for r in ranked if r[1] == ranked[0][1]]
    if len(top) > 1:
        refs = ", ".join(t.ref for t in top)
        raise InvalidParamsError(f"several transactions match: {refs}", code="transaction_ambiguous")
    return top[0]


def duplicate_pair(matches: list[Transaction], *, within_hours: int) -> Transaction | None:
    """ "Charged twice": among the charges that match the customer's hints, the ones that repeat an
    earlier charge (same merchant, amount, currency and card/account, close in time). When they are
    all repeats of one charge, the disputed one is the latest; the first charge stands. None when
    no charge repeats another, or the repeats are of different charges."""
    repeats = [t for t in matches if find_duplicate_of(t, matches, within_hours=within_hours) is not None]
    kinds = {(t.merchant, t.amount, t.currency, t.account_number, t.card_last4) for t in repeats}
    if len(kinds) != 1:
        return None
    return max(repeats, key=lambda t: (t.occurred_at, t.ref))


def decide(
    policy: DisputePolicy, reason: str, t: Transaction, duplicate: Transaction | None
) -> tuple[DisputeRule | None, str | None]:
    """The first rule that matches (and None), or no rule and the queue the dispute goes to."""
    amount = abs(t.amount)
    for rule in policy.rules:
        if reason not in rule.reasons:
            continue
        if rule.duplicate_within_hours is not None:
            if duplicate is None or t.occurred_at - duplicate.occurred_at > dt.timedelta(
                hours=rule.duplicate_within_hours
            ):
                continue
            if rule.require_posted and not (t.status == "posted" and duplicate.status == "posted"):
                continue
        elif rule.require_posted and t.status != "posted":
            continue
        if rule.max_amount is not None and amount > rule.max_amount:
            continue
        return rule, None
    routing = policy.routing
    route = routing.by_reason.get(reason)
    if route is None and routing.senior_above is not None and amount > routing.senior_above:
        route = "senior"
    return None, route or routing.default


def open_dispute(ctx: ActionContext, p: DisputeInput) -> DisputeResult:
    customer = ctx.customer()
    tz = ctx.policies.bank.tz
    txns = ctx.bank.list_transactions(customer.ref, limit=SCAN_LIMIT)
    t = _find_transaction(ctx, p, txns)
    if t.amount >= 0:
        raise InvalidParamsError(f"{t.ref} is a credit, not a charge", code="not_a_charge")
    duplicate = find_duplicate_of(t, txns, within_hours=duplicate_window_hours(ctx))
    existing = _existing(ctx, customer.ref, t.ref)
    if existing is not None and existing.status != "opened":
        return _result(existing, t, tz, duplicate, already_open=True)
    if existing is not None:
        # Recorded but not decided (the run before stopped half-way): decide it now.
        return _decide_and_store(ctx, existing, p.reason, t, duplicate, already_open=True)
    row = Dispute(
        ref="DP" + uuid.uuid4().hex[:12].upper(),
        customer_ref=customer.ref,
        transaction_ref=t.ref,
        account_number=t.account_number,
        merchant=t.merchant,
        reason=p.reason,
        amount_minor=to_minor(abs(t.amount), t.currency),
        currency=t.currency,
        status="opened",
        note=p.note,
        conversation_id=ctx.conversation_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    try:
        with transaction(ctx.sessions) as s:
            s.add(row)
    except IntegrityError:
        # Opened concurrently by another run: the first one wins.
        again = _existing(ctx, customer.ref, t.ref)
        if again is None:
            raise
        if again.status == "opened":  # the other run is deciding it; deciding twice is harmless
            return _decide_and_store(ctx, again, p.reason, t, duplicate, already_open=True)
        return _result(again, t, tz, duplicate, already_open=True)
    return _decide_and_store(ctx, row, p.reason, t, duplicate, already_open=False)


def _decide_and_store(
    ctx: ActionContext,
    row: Dispute,
    reason: str,
    t: Transaction,
    duplicate: Transaction | None,
    *,
    already_open: bool,
) -> DisputeResult:
    customer_ref = row.customer_ref
    rule, route = decide(ctx.policies.disputes, reason, t, duplicate)
    refund_ref = None
    if rule is not None and rule.decision == "approve":
        credit = ctx.bank.post_credit(
            customer_ref,
            ref="RF" + row.ref,
            account_number=t.account_number,
            amount=abs(t.amount),
            currency=t.currency,
            merchant=t.merchant,
            description=f"dispute {row.ref} refund of {t.ref}",
            occurred_at=ctx.now,
            card_last4=t.card_last4,
        )
        refund_ref = credit.ref
    with transaction(ctx.sessions) as s:
        stored = s.get_one(Dispute, row.id)
        if rule is not None:
            stored.status = "approved" if rule.decision == "approve" else "rejected"
            stored.decided_by, stored.rule = "rule", rule.name
        else:
            stored.status, stored.route = "pending_review", route
        stored.refund_transaction_ref = refund_ref
        stored.updated_at = ctx.now
        s.flush()
        s.expunge(stored)
    return _result(stored, t, ctx.policies.bank.tz, duplicate, already_open=already_open)


def _existing(ctx: ActionContext, customer_ref: str, txn_ref: str) -> Dispute | None:
    with ctx.sessions() as s:
        row = s.scalar(
            select(Dispute).where(Dispute.customer_ref == customer_ref, Dispute.transaction_ref == txn_ref)
        )
        if row is not None:
            s.expunge(row)
        return row


def _result(
    d: Dispute, t: Transaction, tz: dt.tzinfo, duplicate: Transaction | None, *, already_open: bool
) -> DisputeResult:
    steps = {
        "approved": ("refund_posted",),
        "pending_review": ("human_review", "track_dispute"),
        "rejected": ("human_agent",),
        "opened": ("track_dispute",),
    }[d.status]
    return DisputeResult(
        dispute_ref=d.ref,
        transaction=transaction_info(t, tz),
        reason=d.reason,
        amount=from_minor(d.amount_minor, d.currency),
        currency=d.currency,
        status=d.status,
        decided_by=d.decided_by,
        rule=d.rule,
        route=d.route,
        duplicate_of=None if duplicate is None else duplicate.ref,
        refund_transaction_ref=d.refund_transaction_ref,
        created_at=d.created_at,
        already_open=already_open,
        next_steps=steps,
    )


# --- get_refund_status -------------------------------------------------------------------------


class RefundInput(ActionInput):
    merchant: str | None = Field(default=None, min_length=1, max_length=128)
    transaction_ref: str | None = Field(default=None, max_length=32)
    amount: Decimal | None = None
    days: int = Field(default=90, ge=1, le=365)


class RefundFound(ActionOutput):
    transaction: TransactionInfo
    source: str  # merchant, dispute
    dispute_ref: str | None


class DisputeStatus(ActionOutput):
    dispute_ref: str
    transaction_ref: str
    merchant: str
    amount: Decimal
    currency: str
    status: str
    route: str | None
    refund_transaction_ref: str | None
    created_at: dt.datetime


class RefundResult(ActionOutput):
    found: bool
    refunds: tuple[RefundFound, ...]
    disputes: tuple[DisputeStatus, ...]
    next_steps: tuple[str, ...]


def get_refund_status(ctx: ActionContext, p: RefundInput) -> RefundResult:
    customer = ctx.customer()
    tz = ctx.policies.bank.tz
    since = ctx.now - dt.timedelta(days=p.days)
    txns = ctx.bank.list_transactions(customer.ref, since=since, limit=SCAN_LIMIT)
    with ctx.sessions() as s:
        disputes = list(
            s.scalars(
                select(Dispute)
                .where(Dispute.customer_ref == customer.ref)
                .order_by(Dispute.created_at.desc())
            )
        )
    target = (
        None if p.transaction_ref is None else next((t for t in txns if t.ref == p.transaction_ref), None)
    )
    merchant = p.merchant or (target.merchant if target else None)

    def relevant_dispute(d: Dispute) -> bool:
        if p.transaction_ref is not None and d.transaction_ref == p.transaction_ref:
            return True
        if merchant is not None and merchant_score(merchant, d.merchant) >= 3:
            return True
        return p.transaction_ref is None and merchant is None

    mine = [d for d in disputes if relevant_dispute(d)]
    by_refund = {d.refund_transaction_ref: d.ref for d in disputes if d.refund_transaction_ref}
    refunds = []
    for t in txns:
        if t.amount <= 0 or t.category == "income":
            continue
        from_dispute = by_refund.get(t.ref)
        if merchant is not None and merchant_score(merchant, t.merchant) < 3:
            continue
        if p.amount is not None and t.amount != abs(p.amount):
            continue
        if merchant is None and p.amount is None and from_dispute is None and t.category != "refund":
            continue
        refunds.append(
            RefundFound(
                transaction=transaction_info(t, tz),
                source="dispute" if from_dispute else "merchant",
                dispute_ref=from_dispute,
            )
        )
    statuses = tuple(
        DisputeStatus(
            dispute_ref=d.ref,
            transaction_ref=d.transaction_ref,
            merchant=d.merchant,
            amount=from_minor(d.amount_minor, d.currency),
            currency=d.currency,
            status=d.status,
            route=d.route,
            refund_transaction_ref=d.refund_transaction_ref,
            created_at=d.created_at,
        )
        for d in mine
    )
    if refunds:
        steps: tuple[str, ...] = ("refund_credited",)
    elif any(d.status == "pending_review" for d in statuses):
        steps = ("dispute_under_review",)
    else:
        steps = ("allow_merchant_processing_time", "open_dispute")
    return RefundResult(found=bool(refunds), refunds=tuple(refunds), disputes=statuses, next_steps=steps)


SPECS: tuple[ActionSpec, ...] = (  # type: ignore[type-arg]
    ActionSpec(
        "open_dispute",
        DisputeInput,
        DisputeResult,
        open_dispute,
        changes_state=True,
        summarise=lambda r: (
            f"dispute {r.dispute_ref} on {r.transaction.ref}: {r.status}"
            + (f" by rule {r.rule}" if r.rule else "")
            + (f", route {r.route}" if r.route else "")
        ),
    ),
    ActionSpec(
        "get_refund_status",
        RefundInput,
        RefundResult,
        get_refund_status,
        summarise=lambda r: f"{len(r.refunds)} refund(s), {len(r.disputes)} dispute(s)",
    ),
)
