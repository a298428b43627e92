"""Credit-card actions: get_statement and quote_installment_prepayment.

Installment prepayment quote (exact `Decimal`; rounding only where stated):

- Per-period principal follows the plan: `principal / periods` rounded DOWN to the cent for every
  period but the last; the last period carries the remainder, so the periods add up to the principal
  exactly (`ROUNDING_CONVENTION`). E.g. 8999.00 over 12: 11 x 749.91 and a last period of 749.99.
- Principal repaid = per-period principal x periods paid (the last period is never "paid" on an
  active plan). Remaining principal = principal - principal repaid.
- Fee, under the pack's `policies/fees.yaml`:
  - `remaining_fees`: principal x fee_rate_per_period x remaining periods;
  - `percent_of_remaining_principal`: max(remaining principal x rate, minimum).
  The fee is computed exactly and quantised to the cent with ROUND_HALF_UP once, at the end.
- Total to pay = remaining principal + fee. Effective date: the next business day, or the next
  statement date, as the policy says.

The output's `formula` carries every input and each step's expression and value for the reply.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from pydantic import Field

from helixdesk.actions.base import ActionContext, ActionInput, ActionNotFoundError, ActionOutput, ActionSpec
from helixdesk.actions.lookup import day_start
from helixdesk.actions.policies import BankPolicy, PrepaymentPolicy
from helixdesk.bank.connector import InstallmentPlan, Statement

CENT = Decimal("0.01")
ROUNDING_CONVENTION = "per_period_principal_rounded_down_to_cent_remainder_on_last_period"

# --- get_statement -----------------------------------------------------------------------------
#
# The current bill is the latest statement already issued (its statement date is today or earlier,
# in the bank's time zone). The cycle after it has no bill yet: its card spending so far is reported
# as such ("spending so far this cycle"), never as an amount due. A statement dated after today (a
# core bank that lists the coming one) is not a bill; its date is the next statement date.

CYCLE_SCAN_LIMIT = 2000


class StatementInput(ActionInput):
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")


class StatementResult(ActionOutput):
    card_last4: str
    currency: str
    issued: bool  # False: the card has had no statement yet
    period: str | None
    statement_date: date | None
    due_date: date | None
    amount_due: Decimal | None
    minimum_payment: Decimal | None
    paid: Decimal | None
    outstanding: Decimal | None
    minimum_outstanding: Decimal | None
    days_until_due: int | None
    status: str | None  # paid, partially_paid, due, overdue
    cycle_since: date  # the first day of the cycle not yet billed
    cycle_spending: Decimal  # card spending since then (failed and reversed ones left out)
    cycle_count: int
    next_statement_date: date | None


def get_statement(ctx: ActionContext, p: StatementInput) -> StatementResult:
    customer = ctx.customer()
    tz = ctx.policies.bank.tz
    today = ctx.now.astimezone(tz).date()
    statements = ctx.bank.list_statements(customer.ref, limit=12)
    if p.card_last4 is not None:
        statements = [s for s in statements if s.card_last4 == p.card_last4]
    if not statements:
        raise ActionNotFoundError("no credit-card statement found", code="statement_not_found")
    issued = [s for s in statements if s.statement_date <= today]
    coming = [s for s in statements if s.statement_date > today]
    st = max(issued, key=lambda s: (s.statement_date, s.card_last4)) if issued else None
    if st is not None:
        card, currency = st.card_last4, st.currency
        cycle_since = st.statement_date + timedelta(days=1)
    else:
        first = min(coming, key=lambda s: (s.statement_date, s.card_last4))
        card, currency = first.card_last4, first.currency
        cycle_since = _cycle_start(first.statement_date)
    mine = [s for s in coming if s.card_last4 == card]
    upcoming = min(s.statement_date for s in mine) if mine else next_statement_date(today, statements, card)
    spent = [
        t
        for t in ctx.bank.list_transactions(
            customer.ref, since=day_start(cycle_since, tz), limit=CYCLE_SCAN_LIMIT
        )
        if t.card_last4 == card
        and t.amount < 0
        and t.currency == currency
        and t.status not in ("failed", "reversed")
    ]
    cycle = {
        "cycle_since": cycle_since,
        "cycle_spending": sum((-t.amount for t in spent), Decimal(0)),
        "cycle_count": len(spent),
        "next_statement_date": upcoming,
    }
    if st is None:
        return StatementResult(
            card_last4=card, currency=currency, issued=False, period=None, statement_date=None,
            due_date=None, amount_due=None, minimum_payment=None, paid=None, outstanding=None,
            minimum_outstanding=None, days_until_due=None, status=None, **cycle,
        )  # fmt: skip
    outstanding = max(st.amount_due - st.paid, Decimal(0))
    if outstanding == 0:
        status = "paid"
    elif today > st.due_date:
        status = "overdue"
    elif st.paid > 0:
        status = "partially_paid"
    else:
        status = "due"
    return StatementResult(
        card_last4=st.card_last4,
        currency=st.currency,
        issued=True,
        period=st.period,
        statement_date=st.statement_date,
        due_date=st.due_date,
        amount_due=st.amount_due,
        minimum_payment=st.minimum_payment,
        paid=st.paid,
        outstanding=outstanding,
        minimum_outstanding=max(st.minimum_payment - st.paid, Decimal(0)),
        days_until_due=(st.due_date - today).days,
        status=status,
        **cycle,
    )


def _cycle_start(statement_date: date) -> date:
    """The first day of the cycle that ends on `statement_date`: the day after the same day of the
    month before (or that month's last day, when it is shorter)."""
    last_of_before = statement_date.replace(day=1) - timedelta(days=1)
    before = last_of_before.replace(day=min(statement_date.day, last_of_before.day))
    return before + timedelta(days=1)


def _summary_statement(r: StatementResult) -> str:
    cycle = f"cycle since {r.cycle_since}: {r.cycle_spending} spent"
    if not r.issued:
        return f"card {r.card_last4}: no statement issued yet; {cycle}"
    return f"card {r.card_last4} {r.period}: due {r.amount_due} by {r.due_date} ({r.status}); {cycle}"


# --- quote_installment_prepayment --------------------------------------------------------------


class QuoteInput(ActionInput):
    plan_ref: str | None = Field(default=None, max_length=32)
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")


class FormulaStep(ActionOutput):
    name: str
    expression: str
    value: Decimal


class Formula(ActionOutput):
    method: str
    inputs: dict[str, str]
    steps: tuple[FormulaStep, ...]


class PrepaymentQuote(ActionOutput):
    plan_ref: str
    description: str
    card_last4: str
    currency: str
    principal: Decimal
    periods: int
    periods_paid: int
    periods_remaining: int
    fee_rate_per_period: Decimal
    per_period_principal: Decimal
    last_period_principal: Decimal
    principal_repaid: Decimal
    remaining_principal: Decimal
    fee_method: str
    fee: Decimal
    total_to_pay: Decimal
    effective_date: date
    effective_rule: str
    rounding_convention: str
    policy_label: str
    formula: Formula


class QuoteResult(ActionOutput):
    quotes: tuple[PrepaymentQuote, ...]


def next_business_day(today: date, bank: BankPolicy) -> date:
    day = today + timedelta(days=1)
    while not bank.is_business_day(day):
        day += timedelta(days=1)
    return day


def next_statement_date(today: date, statements: list[Statement], card_last4: str) -> date | None:
    mine = [s for s in statements if s.card_last4 == card_last4]
    if not mine:
        return None
    dom = max(mine, key=lambda s: s.statement_date).statement_date.day
    year, month = today.year, today.month
    for _ in range(2):
        try:
            candidate = date(year, month, dom)
        except ValueError:  # e.g. the 31st in a short month: the month's last day
            candidate = (
                date(year, month % 12 + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
            )
        if candidate > today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def compute_quote(
    plan: InstallmentPlan,
    policy: PrepaymentPolicy,
    *,
    effective_date: date,
    policy_label: str,
) -> PrepaymentQuote:
    """The quote for one plan; pure arithmetic, no I/O (unit-tested with hand-computed figures)."""
    p, n, k, r = plan.principal, plan.periods, plan.periods_paid, plan.fee_rate_per_period
    per = (p / n).quantize(CENT, rounding=ROUND_DOWN)
    last = p - per * (n - 1)
    repaid = per * k if k < n else p
    remaining = p - repaid
    left = n - k
    inputs = {
        "principal": str(p),
        "periods": str(n),
        "periods_paid": str(k),
        "fee_rate_per_period": str(r),
    }
    steps = [
        FormulaStep(
            name="per_period_principal", expression="round_down_cent(principal / periods)", value=per
        ),
        FormulaStep(
            name="last_period_principal",
            expression="principal - per_period_principal * (periods - 1)",
            value=last,
        ),
        FormulaStep(name="principal_repaid", expression="per_period_principal * periods_paid", value=repaid),
        FormulaStep(name="remaining_principal", expression="principal - principal_repaid", value=remaining),
    ]
    if policy.method == "remaining_fees":
        exact = p * r * left
        fee_expr = "principal * fee_rate_per_period * (periods - periods_paid)"
    else:
        inputs["rate"] = str(policy.rate)
        inputs["minimum"] = str(policy.minimum)
        exact = max(remaining * policy.rate, policy.minimum)
        fee_expr = "max(remaining_principal * rate, minimum)"
    fee = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    total = (remaining + fee).quantize(CENT, rounding=ROUND_HALF_UP)
    steps += [
        FormulaStep(name="fee_exact", expression=fee_expr, value=exact),
        FormulaStep(name="fee", expression="round_half_up_cent(fee_exact)", value=fee),
        FormulaStep(name="total_to_pay", expression="remaining_principal + fee", value=total),
    ]
    return PrepaymentQuote(
        plan_ref=plan.ref,
        description=plan.description,
        card_last4=plan.card_last4,
        currency=plan.currency,
        principal=p,
        periods=n,
        periods_paid=k,
        periods_remaining=left,
        fee_rate_per_period=r,
        per_period_principal=per,
        last_period_principal=last,
        principal_repaid=repaid,
        remaining_principal=remaining,
        fee_method=policy.method,
        fee=fee,
        total_to_pay=total,
        effective_date=effective_date,
        effective_rule=policy.effective,
        rounding_convention=ROUNDING_CONVENTION,
        policy_label=policy_label,
        formula=Formula(method=policy.method, inputs=inputs, steps=tuple(steps)),
    )


def quote_installment_prepayment(ctx: ActionContext, p: QuoteInput) -> QuoteResult:
    customer = ctx.customer()
    plans = [pl for pl in ctx.bank.list_installment_plans(customer.ref) if pl.status == "active"]
    if p.plan_ref is not None:
        plans = [pl for pl in plans if pl.ref == p.plan_ref]
    if p.card_last4 is not None:
        plans = [pl for pl in plans if pl.card_last4 == p.card_last4]
    if not plans:
        raise ActionNotFoundError("no active installment plan found", code="plan_not_found")
    policy = ctx.policies.fees.installment_prepayment
    today = ctx.now.astimezone(ctx.policies.bank.tz).date()
    statements = (
        ctx.bank.list_statements(customer.ref, limit=12) if policy.effective == "next_statement_date" else []
    )
    quotes = []
    for plan in plans:
        effective = None
        if policy.effective == "next_statement_date":
            effective = next_statement_date(today, statements, plan.card_last4)
        quotes.append(
            compute_quote(
                plan,
                policy,
                effective_date=effective or next_business_day(today, ctx.policies.bank),
                policy_label=ctx.policies.fees.label,
            )
        )
    return QuoteResult(quotes=tuple(quotes))


SPECS: tuple[ActionSpec, ...] = (  # type: ignore[type-arg]
    ActionSpec(
        "get_statement",
        StatementInput,
        StatementResult,
        get_statement,
        summarise=_summary_statement,
    ),
    ActionSpec(
        "quote_installment_prepayment",
        QuoteInput,
        QuoteResult,
        quote_installment_prepayment,
        summarise=lambda r: "; ".join(
            f"{q.plan_ref}: total {q.total_to_pay} (fee {q.fee})" for q in r.quotes
        ),
    ),
)
