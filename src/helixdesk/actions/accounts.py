"""Read actions over accounts and transactions: get_balance, list_transactions, explain_transaction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

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
    day_start,
    find_duplicate_of,
    rank,
    transaction_info,
)

# How far back a doubted transaction is searched when no date is given.
EXPLAIN_WINDOW_DAYS = 120
SCAN_LIMIT = 2000


# --- get_balance -------------------------------------------------------------------------------


class BalanceInput(ActionInput):
    account_tail: str | None = Field(
        default=None, pattern=r"^\d{4}$", description="Last 4 digits of account or card"
    )


class AccountBalance(ActionOutput):
    number: str
    number_tail: str
    kind: str
    currency: str
    balance: Decimal
    available: Decimal
    status: str
    credit_limit: Decimal | None
    card_last4: tuple[str, ...]


class BalanceResult(ActionOutput):
    accounts: tuple[AccountBalance, ...]
    as_of: datetime


def get_balance(ctx: ActionContext, p: BalanceInput) -> BalanceResult:
    customer = ctx.customer()
    cards = ctx.bank.list_cards(customer.ref)
    rows = []
    for a in ctx.bank.list_accounts(customer.ref):
        mine = [c for c in cards if c.account_number == a.number and c.status != "cancelled"]
        limits = [c.credit_limit for c in mine if c.credit_limit is not None]
        rows.append(
            AccountBalance(
                number=a.number,
                number_tail=a.number[-4:],
                kind=a.kind,
                currency=a.currency,
                balance=a.balance,
                available=a.available,
                status=a.status,
                credit_limit=max(limits) if limits else None,
                card_last4=tuple(c.last4 for c in mine),
            )
        )
    if p.account_tail is not None:
        rows = [r for r in rows if r.number_tail == p.account_tail or p.account_tail in r.card_last4]
        if not rows:
            raise ActionNotFoundError(f"no account or card ending {p.account_tail}", code="account_not_found")
    return BalanceResult(accounts=tuple(rows), as_of=ctx.now)


# --- list_transactions -------------------------------------------------------------------------


class TransactionsInput(ActionInput):
    since: date | None = Field(default=None, description="First local day, inclusive")
    until: date | None = Field(default=None, description="Last local day, inclusive")
    limit: int = Field(default=20, ge=1, le=200)
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    direction: Literal["all", "debit", "credit"] = "all"

    @model_validator(mode="after")
    def _order(self) -> TransactionsInput:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since is after until")
        return self


class CurrencyTotal(ActionOutput):
    currency: str
    debits: Decimal
    credits: Decimal


class TransactionList(ActionOutput):
    since: date | None
    until: date | None
    transactions: tuple[TransactionInfo, ...]
    count: int
    truncated: bool
    totals: tuple[CurrencyTotal, ...]


def list_transactions(ctx: ActionContext, p: TransactionsInput) -> TransactionList:
    customer = ctx.customer()
    tz = ctx.policies.bank.tz
    since = None if p.since is None else day_start(p.since, tz)
    until = None if p.until is None else day_start(p.until + timedelta(days=1), tz)
    txns = ctx.bank.list_transactions(customer.ref, since=since, until=until, limit=SCAN_LIMIT)
    if p.card_last4 is not None:
        txns = [t for t in txns if t.card_last4 == p.card_last4]
    if p.direction == "debit":
        txns = [t for t in txns if t.amount < 0]
    elif p.direction == "credit":
        txns = [t for t in txns if t.amount > 0]
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for t in txns:
        if t.status in ("failed", "reversed"):
            continue
        totals[t.currency][0 if t.amount < 0 else 1] += abs(t.amount)
    shown = txns[: p.limit]
    return TransactionList(
        since=p.since,
        until=p.until,
        transactions=tuple(transaction_info(t, tz) for t in shown),
        count=len(txns),
        truncated=len(txns) > len(shown),
        totals=tuple(
            CurrencyTotal(currency=c, debits=d, credits=cr) for c, (d, cr) in sorted(totals.items())
        ),
    )


# --- explain_transaction -----------------------------------------------------------------------


class ExplainInput(ActionInput):
    amount: Decimal | None = None
    date: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    merchant: str | None = Field(default=None, min_length=1, max_length=128)
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")

    def hints(self) -> Hints:
        return Hints(
            amount=self.amount,
            day=self.date,
            date_from=self.date_from,
            date_to=self.date_to,
            merchant=self.merchant,
            card_last4=self.card_last4,
        )


class TransactionMatch(ActionOutput):
    transaction: TransactionInfo
    score: int
    matched_on: tuple[str, ...]
    duplicate_of: str | None


class ExplainResult(ActionOutput):
    matches: tuple[TransactionMatch, ...]
    next_steps: tuple[str, ...]


def explain_transaction(ctx: ActionContext, p: ExplainInput) -> ExplainResult:
    customer = ctx.customer()
    hints = p.hints()
    if not hints.any():
        raise InvalidParamsError(
            "give at least one of amount, date, date range or merchant", code="hint_required"
        )
    tz = ctx.policies.bank.tz
    days = [d for d in (p.date, p.date_from, p.date_to) if d is not None]
    earliest = (
        min(days) - timedelta(days=2)
        if days
        else ctx.now.astimezone(tz).date() - timedelta(days=EXPLAIN_WINDOW_DAYS)
    )
    since = day_start(earliest, tz)
    txns = ctx.bank.list_transactions(customer.ref, since=since, limit=SCAN_LIMIT)
    ranked = rank(txns, hints, tz)
    if not ranked:
        raise ActionNotFoundError("no transaction matches those details", code="no_matching_transaction")
    within = duplicate_window_hours(ctx)
    matches = []
    for t, score, matched in ranked:
        dup = find_duplicate_of(t, txns, within_hours=within)
        matches.append(
            TransactionMatch(
                transaction=transaction_info(t, tz),
                score=score,
                matched_on=matched,
                duplicate_of=None if dup is None else dup.ref,
            )
        )
    steps: list[str] = []
    if any(m.transaction.status == "pending" for m in matches):
        steps.append("wait_for_posting")
    if any(m.duplicate_of for m in matches):
        steps.append("open_dispute")
    else:
        steps += ["confirm_recognised", "open_dispute"]
    steps.append("human_agent")
    return ExplainResult(matches=tuple(matches), next_steps=tuple(steps))


def duplicate_window_hours(ctx: ActionContext) -> int:
    hours = [r.duplicate_within_hours for r in ctx.policies.disputes.rules if r.duplicate_within_hours]
    return max(hours) if hours else 24


def _summary_balance(r: BalanceResult) -> str:
    return f"{len(r.accounts)} account(s)"


def _summary_list(r: TransactionList) -> str:
    return f"{len(r.transactions)} of {r.count} transaction(s)"


def _summary_explain(r: ExplainResult) -> str:
    return "matched " + ", ".join(
        m.transaction.ref + (f" (duplicate of {m.duplicate_of})" if m.duplicate_of else "") for m in r.matches
    )


SPECS: tuple[ActionSpec, ...] = (  # type: ignore[type-arg]
    ActionSpec("get_balance", BalanceInput, BalanceResult, get_balance, summarise=_summary_balance),
    ActionSpec(
        "list_transactions", TransactionsInput, TransactionList, list_transactions, summarise=_summary_list
    ),
    ActionSpec(
        "explain_transaction", ExplainInput, ExplainResult, explain_transaction, summarise=_summary_explain
    ),
)
