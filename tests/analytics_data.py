"""The analytics fixture: seven conversations with known outcomes, written as past conversations
with their events, and every figure they give, computed by hand (see the comments).

Day 1 is 2026-11-02 in Asia/Shanghai (10:00 there is 02:00 UTC).

| conv | day | channel | lang    | what happens                                                              |
|------|-----|---------|---------|---------------------------------------------------------------------------|
| c1   | 1   | web     | zh-Hans | bot answers in 2 s, rated 5; customer A comes back on day 4 (c5)          |
| c2   | 1   | app     | en      | angry; asks for a person: general queue, waits 60 s, agent.li answers 70 s |
|      |     |         |         | after the handoff (SLA 180: met), holds it 300 s, resolved; rated 2       |
| c3   | 1   | web     | zh-Hans | fraud report (fear, risk fraud), VIP: fraud queue (SLA 60), fraud.zhao     |
|      |     |         |         | claims at 30 s, answers at 90 s (missed), holds 168 s, transfers to senior;|
|      |     |         |         | senior.wang claims 60 s later, holds 300 s, wraps up unresolved           |
| c4   | 1   | web     | en      | asks for a person: general queue (SLA 180), nobody claims; leaves 879 s   |
|      |     |         |         | later: abandoned, SLA missed                                              |
| c5   | 4   | web     | zh-Hans | customer A again: greeting, card activation, answered; contained          |
| c6   | 2   | web     | zh-Hant | a loan question the bot never replies to; contained, no first response    |
| c7   | 2   | app     | en      | opened, nothing said: counted in volume only                              |
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.analytics.feed import CONSUMER, AnalyticsFeed
from helixdesk.auth.demo import seed_demo_staff
from helixdesk.auth.models import PresenceChange
from helixdesk.auth.service import StaffAccounts
from helixdesk.bus.consumer import DurableConsumer
from helixdesk.conversations.history import PastConversation, PastMessage, import_past
from helixdesk.conversations.models import Sender
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.timezones import zone
from helixdesk.db.session import transaction
from helixdesk.handoff.history import PastHandoff, import_past_handoffs
from helixdesk.privacy.transcripts import TranscriptPrivacy
from tests.events import publish_stored

DAY1 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
FIRST, LAST = date(2026, 11, 2), date(2026, 11, 5)


TZ = zone("Asia/Shanghai")
STAFF_PASSWORD = "analytics-fixture-pw"  # the demo staff the fixture creates (mgr.gao, sup.liu, ...)


def consume(sessions: sessionmaker[Session]) -> int:
    """Publish what is stored and let the `analytics` consumer handle it; returns how many events."""

    async def run() -> int:
        await publish_stored(sessions)
        feed = AnalyticsFeed(tz=TZ)
        consumer = DurableConsumer(
            name=CONSUMER,
            sessions=sessions,
            batch_handler=feed.handle,
            prepare=feed.prepare,
            chunk_by=lambda event: event.conversation_id,
            chunk_size=2,
            lease_seconds=0.5,
        )
        try:
            return await consumer.catch_up()
        finally:
            await consumer.stop()

    return asyncio.run(run())


def _nlu(intent: str | None, emotion: str = "neutral", risk: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "nlu": {
            "language": "zh-Hans",
            "intent": {"name": intent, "confidence": 0.9} if intent else None,
            "emotion": {"label": emotion, "intensity": 0.8 if emotion != "neutral" else 0.1},
            "risk": [{"type": r, "weight": 0.9, "evidence": ""} for r in risk],
        }
    }


def _t(seconds: float, day: int = 1) -> datetime:
    return DAY1 + timedelta(days=day - 1, seconds=seconds)


def customer(text: str, at: datetime, **nlu: Any) -> PastMessage:
    return PastMessage(Sender.CUSTOMER, text, at, meta=_nlu(**nlu))


def bot(text: str, at: datetime) -> PastMessage:
    return PastMessage(Sender.BOT, text, at, meta={"kind": "answer"})


def agent(text: str, at: datetime) -> PastMessage:
    return PastMessage(Sender.AGENT, text, at)


def seed(sessions: sessionmaker[Session], *, only: tuple[str, ...] | None = None) -> dict[str, str]:
    """Write the fixture's conversations (all, or `only` these names); returns name -> id."""
    accounts = StaffAccounts(sessions=sessions)
    seed_demo_staff(accounts, password=STAFF_PASSWORD)
    staff = {u.username: u.id for u in accounts.list_users()}
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    wanted = only or ("c1", "c2", "c3", "c4", "c5", "c6", "c7")
    ids: dict[str, str] = {}
    with transaction(sessions) as s:
        if "c2" in wanted:
            # agent.li is online from 09:00 to 11:00 on day 1 (two hours), away for lunch after.
            s.add(PresenceChange(user_id=staff["agent.li"], presence="online", at=DAY1 - timedelta(hours=1)))
            s.add(PresenceChange(user_id=staff["agent.li"], presence="away", at=DAY1 + timedelta(hours=1)))
        for name in wanted:
            past, handoffs = _conversation(name, staff)
            ids[name] = import_past(s, writer, past)
            if handoffs:
                import_past_handoffs(s, ids[name], handoffs)
    return ids


def _conversation(name: str, staff: dict[str, str]) -> tuple[PastConversation, list[PastHandoff]]:
    if name == "c1":
        return (
            PastConversation(
                channel="web",
                language="zh-Hans",
                customer_ref="FIXTURE-A",
                messages=[
                    customer("怎么激活信用卡", _t(0), intent="card_activation"),
                    bot("在App里激活。", _t(2)),
                ],
                rating=5,
            ),
            [],
        )
    if name == "c2":
        return (
            PastConversation(
                channel="app",
                language="en",
                messages=[
                    customer("Why was I charged this fee??", _t(100), intent="fee_inquiry", emotion="anger"),
                    bot("The annual fee is ...", _t(101)),
                    customer("Let me talk to a person", _t(130), intent="human_agent", emotion="anger"),
                    bot("Connecting you to a person.", _t(131)),
                    agent("Hello, I'm looking at your fee now.", _t(201)),
                ],
                rating=2,
            ),
            [
                PastHandoff(
                    queue="general",
                    reason="customer_request",
                    at=_t(131),
                    sla_seconds=180,
                    claimed_at=_t(191),
                    ended_at=_t(491),
                    agent_id=staff["agent.li"],
                    resolution="resolved",
                    negativity=0.6,
                    language="en",
                )
            ],
        )
    if name == "c3":
        return (
            PastConversation(
                channel="web",
                language="zh-Hans",
                messages=[
                    customer(
                        "有人盗刷了我的卡",
                        _t(1000),
                        intent="card_fraud_report",
                        emotion="fear",
                        risk=("fraud",),
                    ),
                    bot("正在为您转接反欺诈专员。", _t(1001)),
                    agent("您好，我是反欺诈专员。", _t(1092)),
                    agent("我为您转接高级客服。", _t(1200)),
                    agent("您好，我来继续处理。", _t(1270)),
                ],
            ),
            [
                PastHandoff(
                    queue="fraud",
                    reason="fraud",
                    at=_t(1002),
                    sla_seconds=60,
                    status="transferred",
                    claimed_at=_t(1032),
                    ended_at=_t(1200),
                    agent_id=staff["fraud.zhao"],
                    negativity=0.8,
                    tier="vip",
                ),
                PastHandoff(
                    queue="senior",
                    reason="transfer",
                    at=_t(1200),
                    sla_seconds=120,
                    claimed_at=_t(1260),
                    ended_at=_t(1560),
                    agent_id=staff["senior.wang"],
                    resolution="unresolved",
                    negativity=0.5,
                    tier="vip",
                ),
            ],
        )
    if name == "c4":
        return (
            PastConversation(
                channel="web",
                language="en",
                messages=[
                    customer("What's my balance", _t(2000), intent="balance_inquiry"),
                    bot("Please verify first.", _t(2001)),
                    customer("I want an agent", _t(2020), intent="human_agent"),
                    bot("Connecting you to a person.", _t(2021)),
                    PastMessage(Sender.SYSTEM, "The customer left.", _t(2900)),
                ],
            ),
            [
                PastHandoff(
                    queue="general", reason="customer_request", at=_t(2021), sla_seconds=180, language="en"
                )
            ],
        )
    if name == "c5":
        return (
            PastConversation(
                channel="web",
                language="zh-Hans",
                customer_ref="FIXTURE-A",
                messages=[
                    customer("你好", _t(0, day=4), intent="greeting"),
                    bot("您好！", _t(1, day=4)),
                    customer("卡还是激活不了", _t(10, day=4), intent="card_activation"),
                    bot("请按以下步骤……", _t(12, day=4)),
                ],
            ),
            [],
        )
    if name == "c6":
        return (
            PastConversation(
                channel="web",
                language="zh-Hant",
                messages=[customer("我想申請貸款", _t(500, day=2), intent="loan_inquiry")],
            ),
            [],
        )
    if name == "c7":
        return (
            PastConversation(
                channel="app",
                language="en",
                messages=[PastMessage(Sender.SYSTEM, "Conversation opened.", _t(600, day=2))],
            ),
            [],
        )
    raise KeyError(name)


# ---- the figures, computed by hand (period 2026-11-02 .. 2026-11-05, no filter) ------------------
# engaged: c1-c6 (6); contained: c1, c5, c6 (3); handed off: c2, c3, c4 (3); closed: c1-c6 (6);
# resolved: c2, c5, c6 (c1: customer A came back on day 4; c3: unresolved; c4: abandoned) (3).
# First responses: c1 2, c2 1, c3 1, c4 1, c5 1 (c6 none) = 6 / 5. Queue waits (first handoff):
# c2 60, c3 30 = 90 / 2. Handled: c2 300, c3 168 + 300 = 468 -> 768 / 2. SLA: c2 met (70 <= 180),
# c3 missed (90 > 60), c4 missed (879 s waiting > 180) -> 1 / 3. Emotional load 0.6 + 1.3 = 1.9.
# Cost: 7 x 0.6 + 768 / 3600 x 90 = 4.2 + 19.2 = 23.4 (3.342857 a conversation); baseline
# (3 x 6 min = 1080 s + 768 s) / 3600 x 90 = 46.2; saved 22.8.
EXPECTED: dict[str, float | None] = {
    "volume": 7,
    "containment": 3 / 6,
    "handoff_rate": 3 / 6,
    "fcr": 3 / 6,
    "csat": (5 + 2) / 2,
    "first_response": 6 / 5,
    "queue_wait": 90 / 2,
    "abandonment": 1 / 3,
    "aht": 768 / 2,
    "transfers": 1,
    "negative_rate": 2 / 6,
    "risk_rate": 1 / 6,
    "sla_compliance": 1 / 3,
    "emotional_load": 1.9 / 2,
    "cost_per_conversation": 23.4 / 7,
    "cost_saved": 22.8,
    # agent.li handled c2 for 300 s of the 7,200 s online; senior.wang has no presence recorded.
    "occupancy": 300 / 7200,
}
EXPECTED_BREAKDOWNS: dict[str, dict[str, int]] = {
    "handoff_reasons": {"customer_request": 2, "fraud": 1},
    "emotions": {"neutral": 6, "anger": 2, "fear": 1},
    "risk_flags": {"fraud": 1},
    "intents": {
        "card_activation": 2,
        "fee_inquiry": 1,
        "card_fraud_report": 1,
        "balance_inquiry": 1,
        "loan_inquiry": 1,
    },
    "queues": {"general": 2, "fraud": 1},
    "channels": {"web": 5, "app": 2},
    "tiers": {"vip": 1},
}
# Per day: volume and containment.
EXPECTED_SERIES = {
    "volume": [4, 2, 0, 1],
    "containment": [1 / 4, 1.0, None, 1.0],
}
# English only: c2, c4, c7.
EXPECTED_EN = {"volume": 3, "containment": 0.0, "handoff_rate": 1.0, "abandonment": 1 / 2}
# Drill-downs: metric, outcome -> the conversations.
EXPECTED_DRILL = {
    ("containment", "yes"): {"c1", "c5", "c6"},
    ("containment", "no"): {"c2", "c3", "c4"},
    ("abandonment", "yes"): {"c4"},
    ("sla_compliance", "no"): {"c3", "c4"},
    ("fcr", "no"): {"c1", "c3", "c4"},
}
