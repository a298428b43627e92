"""Named checks a conversation's expectations refer to: the figures a reply must show, worked out
here from the bank's own data and the published rates (never written into the scenario files),
and the state the bank must be in after a turn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from helixdesk.bank.connector import BankConnector, Card, Transaction
from helixdesk.simulation.bankdata import CustomerData
from helixdesk.simulation.numbers import expected_prepayment

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Figure:
    """A number a reply must show: any one of `values` (two roundings of a division, say)."""

    label: str
    values: frozenset[Decimal]

    def shown(self) -> str:
        return " or ".join(f"{v:,.2f}" if v != v.to_integral() else f"{v:,}" for v in sorted(self.values))


@dataclass
class Context:
    """What a check may read: the customer's data as picked, the placeholder values, the rates."""

    data: CustomerData | None
    vars: dict[str, Any]
    rates: dict[str, tuple[Decimal, Decimal]]  # currency -> (bank buys, bank sells), CNY per unit
    bank: BankConnector
    snapshot: dict[str, str] = field(default_factory=dict)  # card tail -> status when picked

    def record(self, name: str) -> Any:
        return self.vars[name]["_record"]

    def need(self) -> CustomerData:
        assert self.data is not None, "this check needs a signed-in customer"
        return self.data


def _one(label: str, *values: Decimal) -> Figure:
    return Figure(label, frozenset(abs(v) for v in values))


def _cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_UP)


# ---- figures ------------------------------------------------------------------------------------


def balances(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    return [_one(f"available in account …{a.number[-4:]}", a.available) for a in ctx.need().accounts]


def credit_available(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    """What is left to spend on the credit card accounts."""
    return [
        _one(f"credit left on …{a.number[-4:]}", a.available)
        for a in ctx.need().accounts
        if a.kind == "credit"
    ]


def spending(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    """Money out in a local calendar month (`back`: 0 this month, 1 last month), per currency."""
    data = ctx.need()
    since, until = data.month_range(int(p.get("back", 0)))
    totals = data.totals(data.between(since, until))
    return [_one(f"spent {c} {since:%Y-%m}", out) for c, (out, _) in sorted(totals.items()) if out > 0]


def txn_amount(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    t: Transaction = ctx.record(p.get("var", "txn"))
    return [_one(f"amount of {t.merchant} {t.ref}", t.amount)]


def transfer_amount(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    t = ctx.record("transfer")
    return [_one(f"transfer to {t.payee_name}", t.amount)]


def prepayment(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    plan = ctx.record("plan")
    remaining, fee = expected_prepayment(plan)
    return [
        _one("remaining principal", remaining),
        _one("prepayment fee", fee),
        _one("total to repay", remaining + fee),
    ]


def statement(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    card: Card = ctx.record("card")
    latest = next(s for s in ctx.need().statements if s.card_last4 == card.last4)
    return [_one("amount due", latest.amount_due), _one("minimum payment", latest.minimum_payment)]


def fx_rate(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    buy, sell = ctx.rates[p["currency"]]
    return [_one(f"{p['currency']} buy rate", buy), _one(f"{p['currency']} sell rate", sell)]


def fx_cost_cny(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    """CNY the customer pays for `amount` of foreign currency (the bank sells it)."""
    _, sell = ctx.rates[p["currency"]]
    return [_one(f"CNY for {p['amount']} {p['currency']}", _cents(Decimal(str(p["amount"])) * sell))]


def fx_proceeds_cny(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    """CNY the customer gets for `amount` of foreign currency (the bank buys it)."""
    buy, _ = ctx.rates[p["currency"]]
    return [_one(f"CNY for selling {p['amount']} {p['currency']}", _cents(Decimal(str(p["amount"])) * buy))]


def fx_foreign_for_cny(ctx: Context, p: dict[str, Any]) -> list[Figure]:
    """Foreign currency `cny` buys (at the bank's selling rate); rounded to the cent either way."""
    _, sell = ctx.rates[p["currency"]]
    exact = Decimal(str(p["cny"])) / sell
    return [
        _one(
            f"{p['currency']} for {p['cny']} CNY",
            exact.quantize(CENT, ROUND_HALF_UP),
            exact.quantize(CENT, ROUND_DOWN),
        )
    ]


FIGURES: dict[str, Callable[[Context, dict[str, Any]], list[Figure]]] = {
    "balances": balances,
    "credit_available": credit_available,
    "spending": spending,
    "txn_amount": txn_amount,
    "transfer_amount": transfer_amount,
    "prepayment": prepayment,
    "statement": statement,
    "fx_rate": fx_rate,
    "fx_cost_cny": fx_cost_cny,
    "fx_proceeds_cny": fx_proceeds_cny,
    "fx_foreign_for_cny": fx_foreign_for_cny,
}


# ---- the bank after a turn ------------------------------------------------------------------------


def _status(ctx: Context, last4: str) -> str | None:
    return next((c.status for c in ctx.bank.list_cards(ctx.need().ref) if c.last4 == last4), None)


def card_frozen(ctx: Context, p: dict[str, Any]) -> str | None:
    card: Card = ctx.record(p.get("var", "card"))
    status = _status(ctx, card.last4)
    return None if status == "frozen" else f"card …{card.last4} is {status}, not frozen"


def card_active(ctx: Context, p: dict[str, Any]) -> str | None:
    card: Card = ctx.record(p.get("var", "card"))
    status = _status(ctx, card.last4)
    return None if status == "active" else f"card …{card.last4} is {status}; it should still be active"


def cards_unchanged(ctx: Context, p: dict[str, Any]) -> str | None:
    now = {c.last4: c.status for c in ctx.bank.list_cards(ctx.need().ref)}
    changed = {k: (v, now.get(k)) for k, v in ctx.snapshot.items() if now.get(k) != v}
    return None if not changed else f"cards changed: {changed}"


def refund_posted(ctx: Context, p: dict[str, Any]) -> str | None:
    dup: Transaction = ctx.record(p.get("var", "dup"))
    credits = [
        t
        for t in ctx.bank.list_transactions(ctx.need().ref, limit=2000)
        if t.amount == -dup.amount and t.merchant == dup.merchant and t.channel == "refund"
    ]
    return None if credits else f"no refund of {abs(dup.amount)} from {dup.merchant} in the account"


def no_new_card(ctx: Context, p: dict[str, Any]) -> str | None:
    """No replacement card was ordered (the customer declined one)."""
    new = [c.last4 for c in ctx.bank.list_cards(ctx.need().ref) if c.last4 not in ctx.snapshot]
    return None if not new else f"a replacement card …{', …'.join(new)} was ordered"


BANK: dict[str, Callable[[Context, dict[str, Any]], str | None]] = {
    "card_frozen": card_frozen,
    "card_active": card_active,
    "cards_unchanged": cards_unchanged,
    "no_new_card": no_new_card,
    "refund_posted": refund_posted,
}
