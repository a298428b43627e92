"""trace_transfer: find the customer's transfer from hints; status, expected arrival, failure and next steps.

Failure reasons from the bank are free text; they are mapped to stable `failure_code`s by keyword
(`FAILURE_CODES`), and what happens next is a tuple of codes the reply layer turns into words.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from helixdesk.actions.base import ActionContext, ActionInput, ActionNotFoundError, ActionOutput, ActionSpec
from helixdesk.actions.lookup import merchant_score
from helixdesk.bank.connector import Transfer

SCAN_LIMIT = 200

# keyword in the bank's failure text -> stable code, and the step that fixes it
FAILURE_CODES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("户名不符", "does not match", "name mismatch"),
        "payee_name_mismatch",
        "check_payee_details_and_resend",
    ),
    (("维护", "maintenance"), "receiving_bank_unavailable", "retry_later"),
    (("限额", "limit"), "transfer_limit_exceeded", "retry_within_limit_or_raise_limit"),
    (("销户", "closed"), "payee_account_closed", "ask_payee_for_another_account"),
)


class TraceInput(ActionInput):
    ref: str | None = Field(default=None, max_length=32)
    amount: Decimal | None = None
    date: dt.date | None = None
    payee: str | None = Field(default=None, min_length=1, max_length=128)


class TransferTrace(ActionOutput):
    ref: str
    payee_name: str
    payee_bank: str
    payee_account_tail: str
    amount: Decimal
    currency: str
    kind: str
    status: str
    created_at: dt.datetime
    expected_arrival: dt.datetime | None
    completed_at: dt.datetime | None
    overdue: bool
    failure_reason: str | None
    failure_code: str | None
    funds: str  # with_payee, in_transit, not_debited, returned_to_account
    next_steps: tuple[str, ...]
    matched_on: tuple[str, ...]


class TraceResult(ActionOutput):
    transfers: tuple[TransferTrace, ...]


def failure_code(reason: str | None) -> tuple[str | None, str | None]:
    if not reason:
        return None, None
    low = reason.casefold()
    for words, code, step in FAILURE_CODES:
        if any(w in low for w in words):
            return code, step
    return "other", "human_agent"


def _trace(t: Transfer, now: dt.datetime, matched: tuple[str, ...]) -> TransferTrace:
    code, fix = failure_code(t.failure_reason)
    overdue = t.status == "pending" and t.expected_arrival is not None and now > t.expected_arrival
    if t.status == "completed":
        funds, steps = "with_payee", ["ask_payee_to_check"]
    elif t.status == "pending":
        funds = "in_transit"
        steps = ["human_agent"] if overdue else ["wait_until_expected_arrival"]
    elif t.status == "returned":
        funds, steps = "returned_to_account", [s for s in (fix,) if s]
    else:
        funds, steps = "not_debited", [s for s in (fix,) if s]
    return TransferTrace(
        ref=t.ref,
        payee_name=t.payee_name,
        payee_bank=t.payee_bank,
        payee_account_tail=t.payee_account[-4:],
        amount=t.amount,
        currency=t.currency,
        kind=t.kind,
        status=t.status,
        created_at=t.created_at,
        expected_arrival=t.expected_arrival,
        completed_at=t.completed_at,
        overdue=overdue,
        failure_reason=t.failure_reason,
        failure_code=code,
        funds=funds,
        next_steps=tuple(steps),
        matched_on=matched,
    )


def trace_transfer(ctx: ActionContext, p: TraceInput) -> TraceResult:
    customer = ctx.customer()
    tz = ctx.policies.bank.tz
    transfers = ctx.bank.list_transfers(customer.ref, limit=SCAN_LIMIT)
    if p.ref is None and p.amount is None and p.date is None and p.payee is None:
        if not transfers:
            raise ActionNotFoundError("the customer has no transfers", code="no_matching_transfer")
        # No hint: the newest transfers, problems first.
        order = sorted(transfers, key=lambda t: (t.status == "completed", -t.created_at.timestamp()))
        return TraceResult(transfers=tuple(_trace(t, ctx.now, ()) for t in order[:3]))
    scored = []
    for t in transfers:
        score, matched = 0, list[str]()
        if p.ref is not None and t.ref == p.ref:
            score, matched = score + 10, [*matched, "ref"]
        if p.amount is not None and t.amount == abs(p.amount):
            score, matched = score + 4, [*matched, "amount"]
        if p.date is not None:
            gap = abs((t.created_at.astimezone(tz).date() - p.date).days)
            if gap == 0:
                score, matched = score + 3, [*matched, "date"]
            elif gap == 1:
                score, matched = score + 1, [*matched, "date_near"]
        if p.payee is not None:
            m = max(merchant_score(p.payee, t.payee_name), merchant_score(p.payee, t.payee_bank))
            if m:
                score, matched = score + m, [*matched, "payee" if m >= 3 else "payee_similar"]
        if score >= 3:
            scored.append((score, t, tuple(matched)))
    if not scored:
        raise ActionNotFoundError("no transfer matches those details", code="no_matching_transfer")
    scored.sort(key=lambda x: (-x[0], -x[1].created_at.timestamp()))
    best = scored[0][0]
    return TraceResult(transfers=tuple(_trace(t, ctx.now, m) for s, t, m in scored if s >= best - 2)[:3])


SPECS: tuple[ActionSpec, ...] = (  # type: ignore[type-arg]
    ActionSpec(
        "trace_transfer",
        TraceInput,
        TraceResult,
        trace_transfer,
        summarise=lambda r: ", ".join(f"{t.ref} {t.status}" for t in r.transfers),
    ),
)
