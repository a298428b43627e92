"""The service-effect fixture: a week after the analytics fixture's (2026-11-16 to 2026-11-20 in
the bank's time), written as past conversations with their events. Every row of `ROWS` is one
conversation; its outcomes follow from the row and nothing else:

- `cites`: the knowledge the bot's answer cites (the conversations a `knowledge:` change touches);
- `queue`/`reason`: handed over to a person (claimed and resolved by agent.li);
- `rating`: the customer's CSAT, or None;
- `back`: the same customer starts another conversation (`back` days later, with the `then` row):
  a repeat contact, and so not resolved at first contact (every conversation is closed).

The card-activation answer (`card-activate-app`) touched t1-t5. t1-t4 are in Simplified Chinese,
like k1-k5, the card-activation questions the bot could not answer and handed over: the
comparison. t5 is in English, where no untouched card-activation question is: left out. The
customers of t3, k2 and k3 come back with a balance question (r3, r2, rk3), answered from
`balance-check-app`. x1 is a fraud report handed to the fraud queue.

Retention: every customer but x1's is the bank's, with twelve months of history through November
2026 (`seed_bank_history`). The customers in `LEFT` (t2's, k1's and k2's) fell silent in October and
November, so they churned in November, the month of their conversation; the others stayed. x1's
customer is not the bank's: left out.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.auth.demo import seed_demo_staff
from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.models import BankCustomer, BankMonthlyActivity
from helixdesk.conversations.history import PastConversation, PastMessage, import_past
from helixdesk.conversations.models import Sender
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.db.session import transaction
from helixdesk.handoff.history import PastHandoff, import_past_handoffs
from helixdesk.privacy.transcripts import TranscriptPrivacy
from tests.analytics_data import STAFF_PASSWORD, customer

START = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
FIRST, LAST = date(2026, 11, 16), date(2026, 11, 20)
ENTRY = "card-activate-app"
SECTION = "开卡指南"  # a document's section as a reference: not ASCII


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    day: int  # 1 is 2026-11-16
    language: str
    intent: str
    cites: tuple[str, ...] = ()
    queue: str | None = None
    reason: str | None = None
    rating: int | None = None
    back: str | None = None  # the row of the customer's next conversation


ROWS: tuple[Row, ...] = (
    Row("t1", 1, "zh-Hans", "card_activation", cites=(ENTRY,), rating=5),
    Row("t2", 1, "zh-Hans", "card_activation", cites=(ENTRY,), rating=4),
    Row("t3", 1, "zh-Hans", "card_activation", cites=(ENTRY,), rating=4, back="r3"),
    Row("t4", 2, "zh-Hans", "card_activation", cites=(ENTRY, SECTION), rating=5),
    Row("t5", 2, "en", "card_activation", cites=(ENTRY,), rating=5),
    Row("k1", 1, "zh-Hans", "card_activation", queue="general", reason="bot_failed", rating=3),
    Row("k2", 1, "zh-Hans", "card_activation", queue="general", reason="bot_failed", rating=2, back="r2"),
    Row("k3", 2, "zh-Hans", "card_activation", queue="general", reason="bot_failed", rating=4, back="rk3"),
    Row("k4", 2, "zh-Hans", "card_activation", queue="general", reason="bot_failed"),
    Row("k5", 3, "zh-Hans", "card_activation", queue="general", reason="bot_failed"),
    Row("r3", 3, "zh-Hans", "balance_inquiry", cites=("balance-check-app",)),
    Row("r2", 3, "zh-Hans", "balance_inquiry", cites=("balance-check-app",)),
    Row("rk3", 4, "zh-Hans", "balance_inquiry", cites=("balance-check-app",)),
    Row("x1", 5, "en", "card_fraud_report", queue="fraud", reason="fraud_risk"),
)
BY_NAME = {r.name: r for r in ROWS}
LEFT = frozenset({"EFFECT-T2", "EFFECT-K1", "EFFECT-K2"})
NOT_THE_BANKS = frozenset({"EFFECT-X1"})
TEXT = {
    "card_activation": {"zh-Hans": "信用卡怎么激活", "en": "How do I activate my card"},
    "balance_inquiry": {"zh-Hans": "怎么查余额", "en": "How do I check my balance"},
    "card_fraud_report": {"zh-Hans": "我的卡被盗刷了", "en": "Someone used my card"},
}


def outcomes(row: Row) -> dict[str, float | None]:
    """What the row gives each outcome of the evaluation (every conversation is engaged and closed;
    the handed-over ones were resolved by the person)."""
    return {
        "csat": float(row.rating) if row.rating is not None else None,
        "repeat_contact": 1.0 if row.back else 0.0,
        "fcr": 0.0 if row.back else 1.0,
        "retention": None
        if _customer_of(row.name) in NOT_THE_BANKS
        else (0.0 if _customer_of(row.name) in LEFT else 1.0),
    }


def expected_effect(touched: set[str]) -> dict[str, dict[str, float]]:
    """The evaluation of a change that touched these rows, computed from `ROWS` directly: within
    each intent and language the touched against the others (each side needs two values here, so
    the sample variances exist), weighted by the touched; a 95% normal interval."""
    keys = {(r.intent, r.language) for r in ROWS if r.name in touched}
    out: dict[str, dict[str, float]] = {}
    for outcome in ("csat", "repeat_contact", "fcr", "retention"):
        strata: dict[tuple[str, str], tuple[list[float], list[float]]] = {k: ([], []) for k in keys}
        for r in ROWS:
            value = outcomes(r)[outcome]
            if (r.intent, r.language) in keys and value is not None:
                strata[(r.intent, r.language)][0 if r.name in touched else 1].append(value)
        usable = [(t, c) for t, c in strata.values() if t and c]
        n = sum(len(t) for t, _ in usable)
        diff = sum(len(t) / n * (statistics.mean(t) - statistics.mean(c)) for t, c in usable)
        var = sum(
            (len(t) / n) ** 2 * (statistics.variance(t) / len(t) + statistics.variance(c) / len(c))
            for t, c in usable
        )
        half = 1.959964 * math.sqrt(var)
        out[outcome] = {
            "touched": n,
            "comparable": sum(len(c) for _, c in usable),
            "touched_mean": sum(sum(t) for t, _ in usable) / n,
            "comparable_mean": sum(len(t) / n * statistics.mean(c) for t, c in usable),
            "difference": diff,
            "ci_low": diff - half,
            "ci_high": diff + half,
        }
    return out


def _customer_of(name: str) -> str:
    """The customer's reference: a row's own, or the row it came back from's."""
    first = next((r.name for r in ROWS if r.back == name), name)
    return f"EFFECT-{first.upper()}"


def _at(row: Row, seconds: float) -> datetime:
    return START + timedelta(days=row.day - 1, hours=ROWS.index(row), seconds=seconds)


def _past(row: Row, agent_id: str) -> tuple[PastConversation, list[PastHandoff]]:
    ask = customer(TEXT[row.intent][row.language], _at(row, 0), intent=row.intent)
    if row.queue is None:
        citations = [
            {"title": "FAQ", "source": "pack:retail_bank/kb/faq.yaml", "ref": ref} for ref in row.cites
        ]
        answer = PastMessage(Sender.BOT, "……", _at(row, 2), meta={"kind": "answer", "citations": citations})
        messages, handoffs = [ask, answer], []
    else:
        messages = [
            ask,
            PastMessage(Sender.BOT, "正在为您转接人工客服。", _at(row, 2), meta={"kind": "handoff"}),
            PastMessage(Sender.AGENT, "您好，我来帮您处理。", _at(row, 60)),
        ]
        handoffs = [
            PastHandoff(
                queue=row.queue,
                reason=row.reason or "customer_request",
                at=_at(row, 3),
                sla_seconds=180,
                claimed_at=_at(row, 30),
                ended_at=_at(row, 300),
                agent_id=agent_id,
                resolution="resolved",
                language=row.language,
            )
        ]
    conv = PastConversation(
        channel="web",
        language=row.language,
        customer_ref=_customer_of(row.name),
        messages=messages,
        rating=row.rating,
    )
    return conv, handoffs


def seed_effect(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Write the rows (and the demo staff, unless they are there); returns name -> id."""
    accounts = StaffAccounts(sessions=sessions)
    if not accounts.list_users():
        seed_demo_staff(accounts, password=STAFF_PASSWORD)
    staff = {u.username: u.id for u in accounts.list_users()}
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    seed_bank_history(sessions)
    ids: dict[str, str] = {}
    with transaction(sessions) as s:
        for row in ROWS:
            past, handoffs = _past(row, staff["agent.li"])
            ids[row.name] = import_past(s, writer, past)
            if handoffs:
                import_past_handoffs(s, ids[row.name], handoffs)
    return ids


def plain_bank_customer(ref: str, phone: str) -> BankCustomer:
    """A bank customer whose profile plays no part in the figures: only their history does."""
    return BankCustomer(
        ref=ref,
        name_zh="测试",
        name_en="Test",
        gender="f",
        birth_date=date(1980, 1, 1),
        segment="mass",
        value_tier="standard",
        risk_tolerance="balanced",
        preferred_language="zh-Hans",
        phone=phone,
        email=None,
        city="上海",
        customer_since=date(2020, 1, 1),
    )


def seed_bank_history(sessions: sessionmaker[Session]) -> None:
    """The bank's customers of the rows (all but x1's) with twelve months each, December 2025 to
    November 2026: steady, except that those in `LEFT` made no transaction and no login in October
    and November (the churn rule `inactive`: the second silent month)."""
    refs = sorted({_customer_of(r.name) for r in ROWS} - NOT_THE_BANKS)
    months = [date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 12)]
    with transaction(sessions) as s:
        for i, ref in enumerate(refs):
            bank = plain_bank_customer(ref, f"+8613800000{i:03d}")
            s.add(bank)
            s.flush()
            for month in months:
                silent = ref in LEFT and month >= date(2026, 10, 1)
                s.add(
                    BankMonthlyActivity(
                        customer_id=bank.id,
                        month=month,
                        balance_minor=5_000_000,
                        transactions=0 if silent else 20,
                        card_spend_minor=0 if silent else 200_000,
                        payroll=not silent,
                        remittances=0,
                        products_held=3,
                        products_opened=0,
                        products_closed=0,
                        logins=0 if silent else 8,
                    )
                )
