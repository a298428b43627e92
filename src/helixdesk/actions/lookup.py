"""Finding the customer's records from loose hints (amount, local date, merchant, card tail).

Merchant matching is case- and space-insensitive substring matching in either direction (so 星巴克
finds "星巴克 Starbucks" and "starbucks" finds it too), then a similarity ratio per word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from difflib import SequenceMatcher

from helixdesk.actions.base import ActionOutput
from helixdesk.bank.connector import Transaction

STRONG = 3  # a match needs at least one strong signal (exact amount, same day, merchant name)


class TransactionInfo(ActionOutput):
    ref: str
    account_number: str
    card_last4: str | None
    occurred_at: datetime
    occurred_local: datetime
    amount: Decimal
    currency: str
    merchant: str
    category: str
    channel: str
    status: str
    description: str


def transaction_info(t: Transaction, tz: tzinfo) -> TransactionInfo:
    return TransactionInfo(
        ref=t.ref,
        account_number=t.account_number,
        card_last4=t.card_last4,
        occurred_at=t.occurred_at,
        occurred_local=t.occurred_at.astimezone(tz),
        amount=t.amount,
        currency=t.currency,
        merchant=t.merchant,
        category=t.category,
        channel=t.channel,
        status=t.status,
        description=t.description,
    )


def day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tz)


def _norm(text: str) -> str:
    return "".join(text.casefold().split())


def merchant_score(hint: str, merchant: str) -> int:
    """3: one name contains the other; 1: a word is similar (ratio >= 0.75); 0 otherwise."""
    h, m = _norm(hint), _norm(merchant)
    if not h or not m:
        return 0
    if h in m or m in h:
        return 3
    words = merchant.casefold().split() or [m]
    best = max(SequenceMatcher(None, h, w).ratio() for w in [*words, m])
    return 1 if best >= 0.75 else 0


@dataclass(frozen=True, slots=True)
class Hints:
    amount: Decimal | None = None
    day: date | None = None
    date_from: date | None = None
    date_to: date | None = None
    merchant: str | None = None
    card_last4: str | None = None

    def any(self) -> bool:
        return any(
            v is not None for v in (self.amount, self.day, self.date_from, self.date_to, self.merchant)
        )


def score_transaction(t: Transaction, hints: Hints, tz: tzinfo) -> tuple[int, tuple[str, ...]]:
    """A score and the hints that matched; -1 when the card tail excludes the transaction."""
    if hints.card_last4 is not None and t.card_last4 != hints.card_last4:
        return -1, ()
    score, matched = 0, list[str]()
    if hints.amount is not None and abs(t.amount) == abs(hints.amount):
        score, matched = score + 4, [*matched, "amount"]
    local_day = t.occurred_at.astimezone(tz).date()
    if hints.day is not None:
        if local_day == hints.day:
            score, matched = score + 3, [*matched, "date"]
        elif abs((local_day - hints.day).days) == 1:
            score, matched = score + 1, [*matched, "date_near"]
    if hints.date_from is not None or hints.date_to is not None:
        lo, hi = hints.date_from or date.min, hints.date_to or date.max
        if lo <= local_day <= hi:
            score, matched = score + 3, [*matched, "date_range"]
    if hints.merchant:
        m = merchant_score(hints.merchant, t.merchant)
        if m:
            score, matched = score + m, [*matched, "merchant" if m >= STRONG else "merchant_similar"]
    if hints.card_last4 is not None:
        matched.append("card")
    return score, tuple(matched)


def rank(
    txns: Sequence[Transaction], hints: Hints, tz: tzinfo, *, limit: int = 3
) -> list[tuple[Transaction, int, tuple[str, ...]]]:
    """The best-scoring transactions (score >= STRONG), best first, newest first among equals."""
    scored = [(t, *score_transaction(t, hints, tz)) for t in txns]
    good = [(t, s, m) for t, s, m in scored if s >= STRONG]
    good.sort(key=lambda x: (-x[1], -x[0].occurred_at.timestamp(), x[0].ref))
    if not good:
        return []
    best = good[0][1]
    # Keep the clear winners: everything within 2 points of the best.
    return [g for g in good if g[1] >= best - 2][:limit]


def find_duplicate_of(
    t: Transaction, txns: Sequence[Transaction], *, within_hours: int
) -> Transaction | None:
    """An earlier charge with the same merchant, amount, currency and card/account within the window."""
    if t.amount >= 0 or t.status in ("failed", "reversed"):
        return None
    window = timedelta(hours=within_hours)
    candidates = [
        o
        for o in txns
        if o.ref != t.ref
        and o.amount == t.amount
        and o.currency == t.currency
        and o.merchant == t.merchant
        and o.account_number == t.account_number
        and o.card_last4 == t.card_last4
        and o.status not in ("failed", "reversed")
        and (timedelta(0) <= t.occurred_at - o.occurred_at <= window)
        and (o.occurred_at, o.ref) < (t.occurred_at, t.ref)
    ]
    return max(candidates, key=lambda o: o.occurred_at) if candidates else None
