"""The strategy-effect fixture: touches of the retail_bank pack's `retention_fee_waiver` in both arms,
the conversations they were in (some rated), later ratings, and the bank's monthly history of the
customers, December 2025 to November 2026. Every row of `ROWS` is one touch; what it gives each
outcome follows from the row alone (`outcomes`), and `expected` computes the comparison from the
rows directly, without the code under test.

- `conv`: the touch was in a conversation (rated `rating`, or not rated);
- `later`: the customer rated another conversation `later[0]` days after the touch (negative:
  before it) with `later[1]`;
- `history`: `stays`; `churns` (no transaction and no login in October and November: churned in
  November, after the touch); `churned_before` (silent in August and September: churned before the
  touch, so retention cannot be told); `bank=False`: not a customer the bank knows;
- `products`: products held at the end of the touch's month and of every month after it.

Besides the two arms: a skipped touch, a touch of another strategy, one in September (outside the
October window), a second touch of a5's customer (only the first counts), and a touch of version 2.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.models import BankMonthlyActivity
from helixdesk.conversations.history import PastConversation, PastMessage, import_past
from helixdesk.conversations.models import Customer, Sender
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.db.session import transaction
from helixdesk.lifecycle.models import TouchRow
from helixdesk.lifecycle.store import Editor, StrategyStore
from helixdesk.lifecycle.strategies import load_strategies
from helixdesk.packs.loader import load_pack
from helixdesk.privacy.transcripts import TranscriptPrivacy
from tests.effect_data import plain_bank_customer

STRATEGY = "retention_fee_waiver"
OTHER = "retention_deposit_rate"
TZ = ZoneInfo("Asia/Shanghai")
SINCE, UNTIL = date(2026, 10, 1), date(2026, 10, 31)
MONTHS = [date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 12)]
WITHIN_DAYS = 30
Z95 = 1.959964


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    arm: str
    day: date
    status: str = ""  # default: given in the touched arm, held_out in the holdout arm
    conv: bool = False
    rating: int | None = None
    later: tuple[int, int] | None = None
    history: str = "stays"
    bank: bool = True
    products: tuple[int, int] = (2, 2)
    channel: str = "console"
    strategy: str = STRATEGY
    version: int = 1
    customer: str = ""  # another row's customer

    @property
    def touch_status(self) -> str:
        return self.status or ("given" if self.arm == "touched" else "held_out")

    @property
    def ref(self) -> str:
        return f"FX-{(self.customer or self.name).upper()}"

    @property
    def at(self) -> datetime:
        return datetime.combine(self.day, time(10, 0), TZ).astimezone(UTC)


def _oct(day: int) -> date:
    return date(2026, 10, day)


ROWS: tuple[Row, ...] = (
    Row("a1", "touched", _oct(3), conv=True, rating=5, products=(2, 3)),
    Row("a2", "touched", _oct(4), conv=True, rating=4, channel="bot"),
    Row("a3", "touched", _oct(6), later=(3, 4), history="churns", products=(3, 1)),
    Row("a4", "touched", _oct(8), conv=True, later=(10, 5), products=(1, 2)),
    Row("a5", "touched", _oct(5), conv=True, rating=3, products=(2, 4)),
    Row("a6", "touched", _oct(9), later=(40, 5), history="churned_before", products=(1, 1)),
    Row("a7", "touched", _oct(12), conv=True, rating=5, bank=False),
    Row("h1", "holdout", _oct(3), conv=True, rating=2),
    Row("h2", "holdout", _oct(7), conv=True, rating=4, history="churns", products=(3, 2)),
    Row("h3", "holdout", _oct(10), later=(-2, 5)),
    Row("h4", "holdout", _oct(11), conv=True, rating=2, channel="bot", products=(1, 1)),
    Row("h5", "holdout", _oct(13), later=(5, 3), history="churns", products=(2, 1)),
    # Outside the two arms, the strategy, the window or the first touch.
    Row("s1", "touched", _oct(14), status="skipped", conv=True, rating=1),
    Row("o1", "touched", _oct(14), conv=True, rating=1, strategy=OTHER),
    Row("w1", "touched", date(2026, 9, 20), conv=True, rating=1, products=(2, 2)),
    Row("a5b", "touched", _oct(20), customer="a5"),
    Row("v2", "touched", _oct(22), conv=True, rating=5, version=2, products=(2, 2)),
)


def outcomes(row: Row) -> dict[str, float | None]:
    """What the row's touch gives each outcome, by the rules in docs/lifecycle.md."""
    csat: float | None = None
    if row.conv and row.rating is not None:
        csat = float(row.rating)
    elif row.later and 0 <= row.later[0] <= WITHIN_DAYS:
        csat = float(row.later[1])
    retention = None
    if row.bank and row.history != "churned_before":
        retention = 0.0 if row.history == "churns" else 1.0
    growth = float(row.products[1] - row.products[0]) if row.bank else None
    return {"csat": csat, "retention": retention, "product_growth": growth}


def counted(*, window: bool = True, version: int | None = None) -> list[Row]:
    """The touches the comparison reads: the strategy's, in an arm, in the window and version,
    each customer's first per arm."""
    rows = [
        r
        for r in ROWS
        if r.strategy == STRATEGY
        and r.touch_status in ("given", "held_out")
        and (not window or SINCE <= r.day <= UNTIL)
        and (version is None or r.version == version)
    ]
    first: dict[tuple[str, str], Row] = {}
    for r in sorted(rows, key=lambda r: r.at):
        first.setdefault((r.ref, r.arm), r)
    return list(first.values())


def expected(rows: list[Row]) -> dict[str, dict[str, float | int | None]]:
    """Each outcome's comparison computed from the rows: the two means, their difference and a 95%
    normal interval from the two sample variances."""
    out: dict[str, dict[str, float | int | None]] = {}
    for key in ("csat", "retention", "product_growth"):
        arms = {
            arm: [v for r in rows if r.arm == arm and (v := outcomes(r)[key]) is not None]
            for arm in ("touched", "holdout")
        }
        t, h = arms["touched"], arms["holdout"]
        diff = statistics.mean(t) - statistics.mean(h)
        half = Z95 * math.sqrt(statistics.variance(t) / len(t) + statistics.variance(h) / len(h))
        out[key] = {
            "touched": len(t),
            "holdout": len(h),
            "touched_mean": statistics.mean(t),
            "holdout_mean": statistics.mean(h),
            "difference": diff,
            "ci_low": diff - half,
            "ci_high": diff + half,
        }
    return out


def _customer(s: Session, row: Row) -> Customer:
    ref = row.ref if row.bank else None
    found = s.scalar(select(Customer).where(Customer.bank_ref == ref)) if ref else None
    if found is not None:
        return found
    customer = Customer(bank_ref=ref, language="zh-Hans", created_at=row.at - timedelta(days=400))
    s.add(customer)
    s.flush()
    return customer


def _conversation(s: Session, writer: ConversationWriter, row: Row, at: datetime, rating: int | None) -> str:
    messages = [
        PastMessage(Sender.CUSTOMER, "我想销户", at - timedelta(minutes=5)),
        PastMessage(Sender.AGENT, "我来帮您看看。", at + timedelta(minutes=2)),
    ]
    past = PastConversation(
        channel="web",
        language="zh-Hans",
        customer_ref=row.ref if row.bank else None,
        messages=messages,
        rating=rating,
    )
    return import_past(s, writer, past)


def seed_strategy_effect(sessions: sessionmaker[Session]) -> None:
    """The pack's strategies (with a second version of the strategy), the bank's customers with
    their months, the conversations and ratings, and the touches."""
    store = StrategyStore(sessions=sessions, pack_set=load_strategies(load_pack("retail_bank")))
    definition = store.get(STRATEGY)["definition"]
    store.update(Editor("sup", "Supervisor"), STRATEGY, {**definition, "holdout": 0.2})
    _seed_bank(sessions)
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    with transaction(sessions) as s:
        for row in ROWS:
            conversation_id = None
            if row.conv:
                conversation_id = _conversation(s, writer, row, row.at, row.rating)
            if row.later:
                _conversation(s, writer, row, row.at + timedelta(days=row.later[0]), row.later[1])
            customer = _customer(s, row)
            s.add(
                TouchRow(
                    key=f"{row.strategy}:fixture:{row.name}",
                    strategy_id=row.strategy,
                    strategy_version=row.version,
                    kind="retention_offer",
                    channel=row.channel,
                    trigger="conversation" if row.channel == "bot" else None,
                    customer_id=customer.id,
                    conversation_id=conversation_id,
                    arm=row.arm,
                    status=row.touch_status,
                    outcome="withheld:blocked" if row.touch_status == "skipped" else None,
                    created_at=row.at,
                )
            )


def _seed_bank(sessions: sessionmaker[Session]) -> None:
    rows = {r.ref: r for r in ROWS if r.bank and not r.customer}
    with transaction(sessions) as s:
        for i, (ref, row) in enumerate(sorted(rows.items())):
            bank = plain_bank_customer(ref, f"+8613900000{i:03d}")
            s.add(bank)
            s.flush()
            touch_month = row.day.replace(day=1)
            silent = {"churns": {date(2026, 10, 1), date(2026, 11, 1)},
                      "churned_before": {date(2026, 8, 1), date(2026, 9, 1)}}.get(row.history, set())  # fmt: skip
            for month in MONTHS:
                quiet = month in silent
                s.add(
                    BankMonthlyActivity(
                        customer_id=bank.id,
                        month=month,
                        balance_minor=5_000_000,
                        transactions=0 if quiet else 20,
                        card_spend_minor=0 if quiet else 200_000,
                        payroll=not quiet,
                        remittances=0,
                        products_held=row.products[0] if month <= touch_month else row.products[1],
                        products_opened=0,
                        products_closed=0,
                        logins=0 if quiet else 8,
                    )
                )
