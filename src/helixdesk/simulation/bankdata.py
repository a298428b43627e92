"""What the demo bank holds about one customer, read once through the `BankConnector`, and the
pickers that choose a customer for a conversation by what they hold (never by a fixed reference):
the scenario suite's and the simulator's.

A picker returns the values a conversation's placeholders use (`{txn.amount}`, `{card2.last4}`):
plain text, written the way a customer would type it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from opencc import OpenCC

from helixdesk.bank.connector import (
    Account,
    BankConnector,
    Card,
    Customer,
    InstallmentPlan,
    Statement,
    Transaction,
    Transfer,
)

SPENDING_EXCLUDED = ("failed", "reversed")
_S2HK = OpenCC("s2hk")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9.'&/ -]*[A-Za-z0-9'.]")
_CJK = re.compile(r"[\u3400-\u9fff]+")


@dataclass(frozen=True)
class CustomerData:
    ref: str
    customer: Customer
    accounts: list[Account]
    cards: list[Card]
    transactions: list[Transaction]
    statements: list[Statement]
    plans: list[InstallmentPlan]
    transfers: list[Transfer]
    tz: tzinfo
    today: date

    @classmethod
    def read(cls, bank: BankConnector, ref: str, tz: tzinfo, now: datetime) -> CustomerData:
        customer = bank.get_customer(ref)
        assert customer is not None, ref
        return cls(
            ref=ref,
            customer=customer,
            accounts=bank.list_accounts(ref),
            cards=bank.list_cards(ref),
            transactions=bank.list_transactions(ref, limit=2000),
            statements=bank.list_statements(ref, limit=12),
            plans=bank.list_installment_plans(ref),
            transfers=bank.list_transfers(ref, limit=50),
            tz=tz,
            today=now.astimezone(tz).date(),
        )

    @property
    def age(self) -> int:
        return self.customer.age(self.today)

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def active_cards(self) -> list[Card]:
        return [c for c in self.cards if c.status == "active"]

    def month_range(self, back: int) -> tuple[date, date]:
        """The first and last local day of this month (`back` 0) or an earlier one."""
        first = self.today.replace(day=1)
        for _ in range(back):
            first = (first - timedelta(days=1)).replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return first, last

    def between(self, since: date | None, until: date | None) -> list[Transaction]:
        return [
            t
            for t in self.transactions
            if (since is None or self.local(t.occurred_at).date() >= since)
            and (until is None or self.local(t.occurred_at).date() <= until)
        ]

    def totals(self, txns: list[Transaction]) -> dict[str, tuple[Decimal, Decimal]]:
        """Per currency: money out and money in, failed and reversed transactions left out."""
        out: dict[str, list[Decimal]] = {}
        for t in txns:
            if t.status in SPENDING_EXCLUDED:
                continue
            pair = out.setdefault(t.currency, [Decimal(0), Decimal(0)])
            pair[0 if t.amount < 0 else 1] += abs(t.amount)
        return {c: (d, cr) for c, (d, cr) in out.items()}

    def debits(self, days: int = 90) -> list[Transaction]:
        since = self.today - timedelta(days=days)
        return [
            t
            for t in self.transactions
            if t.amount < 0 and t.status == "posted" and self.local(t.occurred_at).date() >= since
        ]

    def duplicate_pairs(
        self, within: timedelta = timedelta(hours=24)
    ) -> list[tuple[Transaction, Transaction]]:
        """(earlier, later): the same merchant, amount, currency and card, both posted, close together."""
        found = []
        debits = sorted((t for t in self.transactions if t.amount < 0), key=lambda t: t.occurred_at)
        for i, a in enumerate(debits):
            for b in debits[i + 1 :]:
                if b.occurred_at - a.occurred_at > within:
                    break
                same = (a.merchant, a.amount, a.currency, a.card_last4) == (
                    b.merchant,
                    b.amount,
                    b.currency,
                    b.card_last4,
                )
                if same and a.status == b.status == "posted":
                    found.append((a, b))
        return found

    def amount_is_unique(self, t: Transaction) -> bool:
        return sum(1 for x in self.transactions if abs(x.amount) == abs(t.amount)) == 1


# ---- placeholder values -------------------------------------------------------------------------


def plain(amount: Decimal) -> str:
    return f"{abs(amount):.2f}"


def merchant_names(merchant: str) -> dict[str, str]:
    """How customers write a merchant: its Chinese part (and that in Traditional), its Latin part."""
    zh = "".join(_CJK.findall(merchant)) or merchant
    latin = _LATIN.search(merchant)
    en = latin.group(0).strip() if latin else merchant
    return {"merchant": merchant, "merchant_zh": zh, "merchant_hant": _S2HK.convert(zh), "merchant_en": en}


def days(local: date) -> dict[str, str]:
    return {
        "md_zh": f"{local.month}月{local.day}号",
        "md_hant": f"{local.month}月{local.day}號",
        "day_en": f"{local.day} {local.strftime('%b')}",
    }


def txn_vars(data: CustomerData, t: Transaction) -> dict[str, Any]:
    return {
        "amount": plain(t.amount),
        "currency": t.currency,
        "ref": t.ref,
        **merchant_names(t.merchant),
        **days(data.local(t.occurred_at).date()),
        "_record": t,
    }


def card_vars(c: Card) -> dict[str, Any]:
    return {"last4": c.last4, "kind": c.kind, "_record": c}


# ---- pickers --------------------------------------------------------------------------------------

Picked = dict[str, Any]
Picker = Callable[[CustomerData, dict[str, Any]], Picked | None]


def _any(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    if "max_age" in p and data.age > p["max_age"]:
        return None
    return {}


def _two_cards(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    cards = data.active_cards()
    if len(cards) < 2 or data.age >= 65:
        return None
    return {"card1": card_vars(cards[0]), "card2": card_vars(cards[1])}


def _credit_card(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    cards = [c for c in data.active_cards() if c.kind == "credit"]
    return {"card": card_vars(cards[0])} if cards and data.age < 65 else None


def _active_card(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    cards = data.active_cards()
    return {"card": card_vars(cards[0])} if cards else None


def _frozen_card(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    cards = [c for c in data.cards if c.status == "frozen"]
    return {"card": card_vars(cards[0])} if cards else None


def _latin_ok(t: Transaction, p: dict[str, Any]) -> bool:
    return not p.get("latin") or _LATIN.search(t.merchant) is not None


def _card_debit(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    dup = {b.ref for pair in data.duplicate_pairs() for b in pair}
    low, high = Decimal(str(p.get("min", 0))), Decimal(str(p.get("max", 10**9)))
    channels = (p["channel"],) if "channel" in p else ("pos", "online")
    for t in data.debits(int(p.get("days", 60))):
        if (
            t.channel in channels
            and t.currency == p.get("currency", "CNY")
            and t.ref not in dup
            and low <= abs(t.amount) <= high
            and data.amount_is_unique(t)
            and _latin_ok(t, p)
        ):
            return {"txn": txn_vars(data, t)}
    return None


def _recent_debit(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    """The newest posted CNY payment out, when its amount is the customer's only one of that size and
    at most `within` (5) transactions are newer: any list of recent transactions must show it."""
    newest = sorted(data.transactions, key=lambda t: t.occurred_at, reverse=True)
    for t in newest[: int(p.get("within", 5)) + 1]:
        if t.amount < 0 and t.status == "posted" and t.currency == "CNY":
            return {"txn": txn_vars(data, t)} if data.amount_is_unique(t) and _latin_ok(t, p) else None
    return None


def _duplicate(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    limit = Decimal(str(p.get("max", "2000.00")))
    for first, later in data.duplicate_pairs():
        if abs(later.amount) <= limit and _latin_ok(later, p):
            return {"dup": txn_vars(data, later), "first": txn_vars(data, first)}
    return None


def _same_day(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    """Two card payments at different merchants on one local day; the customer asks about the later.
    `only`: nothing else on that day either (no salary or refund), so a list of that day's records
    holds these two alone, the later first."""
    by_day: dict[date, list[Transaction]] = {}
    for t in data.debits(60):
        if t.currency == "CNY" and data.amount_is_unique(t) and _latin_ok(t, p):
            by_day.setdefault(data.local(t.occurred_at).date(), []).append(t)
    for day, txns in sorted(by_day.items(), reverse=True):
        every = [
            t
            for t in data.transactions
            if data.local(t.occurred_at).date() == day and (t.amount < 0 or p.get("only"))
        ]
        if len(txns) == 2 == len(every) and txns[0].merchant != txns[1].merchant:
            later, earlier = sorted(txns, key=lambda t: t.occurred_at, reverse=True)
            return {"txn": txn_vars(data, later), "other": txn_vars(data, earlier), "day": days(day)}
    return None


def _salary(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    for t in data.transactions:
        if t.amount > 0 and t.category == "income" and data.amount_is_unique(t):
            return {"txn": txn_vars(data, t)}
    return None


def _listed_in_full(data: CustomerData, merchant: str, txns: list[Transaction], p: dict[str, Any]) -> bool:
    """`upto`: the merchant's records of the last 120 days (what a search by merchant looks through)
    are these payments alone, and no more than `upto` of them, so a list of the matches shows all."""
    if "upto" not in p:
        return True
    since = data.today - timedelta(days=120)
    every = [
        t for t in data.transactions if t.merchant == merchant and data.local(t.occurred_at).date() >= since
    ]
    return len(every) == len(txns) <= int(p["upto"])


def _merchant_repeat(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    """A merchant with several card payments of different amounts in the last 90 days (`upto`: see
    `_listed_in_full`)."""
    by_merchant: dict[str, list[Transaction]] = {}
    for t in data.debits(90):
        if t.currency == "CNY" and _latin_ok(t, p):
            by_merchant.setdefault(t.merchant, []).append(t)
    for merchant, txns in sorted(by_merchant.items(), key=lambda kv: -len(kv[1])):
        amounts = sorted({abs(t.amount) for t in txns}, reverse=True)
        if len(txns) >= 3 and len(amounts) == len(txns) and _listed_in_full(data, merchant, txns, p):
            biggest = max(txns, key=lambda t: abs(t.amount))
            return {"biggest": txn_vars(data, biggest), "shop": merchant_names(merchant)}
    return None


def _transfer(status: tuple[str, ...]) -> Picker:
    def pick(data: CustomerData, p: dict[str, Any]) -> Picked | None:
        mine = [t for t in data.transfers if t.status in status and t.kind == p.get("kind", "domestic")]
        if len(mine) != 1 or len({abs(t.amount) for t in data.transfers}) != len(data.transfers):
            return None
        t = mine[0]
        return {
            "transfer": {
                "amount": plain(t.amount),
                "payee": t.payee_name,
                "payee_hant": _S2HK.convert(t.payee_name),
                "account_tail": "".join(ch for ch in t.payee_account if ch.isdigit())[-4:],
                **days(data.local(t.created_at).date()),
                "_record": t,
            }
        }

    return pick


def _one_plan(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    plans = [x for x in data.plans if x.status == "active"]
    if len(plans) != 1:
        return None
    return {"plan": {"description": plans[0].description, "_record": plans[0]}}


def _month_spender(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    """Card spending last month and (unless the month has only just begun) this month."""
    months = (1,) if data.today.day <= 2 else (0, 1)
    for back in months:
        spent = data.totals(data.between(*data.month_range(back)))
        if spent.get("CNY", (Decimal(0),))[0] <= 0:
            return None
    return {}


def _statement(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    credit = [c for c in data.active_cards() if c.kind == "credit"]
    if len(credit) != 1 or not data.statements:
        return None
    return {"card": card_vars(credit[0])}


def _high_value(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    ok = data.customer.value_tier in ("vip", "platinum") and data.age < 65
    return {"tier": data.customer.value_tier} if ok else None


def _elderly(data: CustomerData, p: dict[str, Any]) -> Picked | None:
    return {} if data.age >= 65 else None


PICKERS: dict[str, Picker] = {
    "any": _any,
    "two_cards": _two_cards,
    "credit_card": _credit_card,
    "active_card": _active_card,
    "frozen_card": _frozen_card,
    "card_debit": _card_debit,
    "recent_debit": _recent_debit,
    "duplicate": _duplicate,
    "salary": _salary,
    "same_day": _same_day,
    "merchant_repeat": _merchant_repeat,
    "pending_transfer": _transfer(("pending",)),
    "failed_transfer": _transfer(("failed", "returned")),
    "one_plan": _one_plan,
    "month_spender": _month_spender,
    "statement": _statement,
    "high_value": _high_value,
    "elderly": _elderly,
}
