"""Quality monitoring as a consumer of the event log, on SQLite and PostgreSQL.

Conversations are stored with their events; the durable consumer `quality` reads the published log
and the QA engine scores each conversation it touched: findings with evidence, a scorecard, and an
alert (with its `quality.alert` event) for what supervisors must see. A failed batch stores nothing
and runs again; a second run adds nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.models import BankCustomer
from helixdesk.bus import outbox
from helixdesk.bus.consumer import DurableConsumer
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.relay import OutboxRelay
from helixdesk.conversations.models import Conversation, CsatRating, Customer, Message
from helixdesk.core.clock import utcnow
from helixdesk.core.events import (
    ConversationCreated,
    ConversationRated,
    Event,
    MessageData,
    MessageReceived,
    MessageSent,
)
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.models import Handoff
from helixdesk.packs.loader import load_pack
from helixdesk.quality.models import Alert, Finding, Scorecard
from helixdesk.quality.monitor import QualityMonitor
from helixdesk.quality.rules import RuleBook
from helixdesk.quality.worker import emotion_reader

BOOK = RuleBook.load(load_pack("retail_bank"))


class Desk:
    """Writes conversations the way the conversation writer does: rows and their events together."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.relay = OutboxRelay(sessions=sessions, bus=MemoryEventBus(), poll_interval=0.05)

    def conversation(self, *, bank_ref: str | None = None, started: datetime | None = None) -> str:
        with transaction(self.sessions) as s:
            customer = None
            if bank_ref is not None:
                customer = s.scalar(select(Customer).where(Customer.bank_ref == bank_ref))
            if customer is None:
                customer = Customer(bank_ref=bank_ref)
                s.add(customer)
                s.flush()
            at = started or utcnow()
            conv = Conversation(customer_id=customer.id, channel="web", language="zh-Hans", created_at=at)
            s.add(conv)
            s.flush()
            outbox.record(
                s, [ConversationCreated(conversation_id=conv.id, channel="web", customer_id=customer.id)]
            )
            return conv.id

    def say(
        self,
        cid: str,
        sender: str,
        text: str,
        *,
        emotion: tuple[str, float] | None = None,
        intent: str | None = None,
        at: datetime | None = None,
        agent_id: str | None = None,
    ) -> str:
        meta: dict[str, Any] = {}
        if sender == "customer":
            meta["nlu"] = {
                "intent": {"name": intent, "confidence": 0.9} if intent else None,
                "emotion": {"label": emotion[0], "intensity": emotion[1]} if emotion else None,
                "risk": [],
            }
        if agent_id:
            meta["agent_id"] = agent_id
        with transaction(self.sessions) as s:
            conv = s.get(Conversation, cid, with_for_update=True)
            assert conv is not None
            conv.last_seq += 1
            msg = Message(
                conversation_id=cid,
                seq=conv.last_seq,
                sender=sender,
                text=text,
                meta=meta,
                created_at=at or utcnow(),
            )
            s.add(msg)
            s.flush()
            data = MessageData(
                id=msg.id,
                conversation_id=cid,
                seq=msg.seq,
                sender=sender,
                text=text,
                created_at=msg.created_at,
            )
            event: Event = (
                MessageReceived(conversation_id=cid, message=data)
                if sender == "customer"
                else MessageSent(conversation_id=cid, message=data)
            )
            outbox.record(s, [event])
            return msg.id

    async def publish(self) -> None:
        await self.relay.flush()


@pytest.fixture
def desk(sessions: sessionmaker[Session]) -> Desk:
    return Desk(sessions)


@pytest.fixture
def consumer(sessions: sessionmaker[Session]) -> DurableConsumer:
    """As `helixdesk qa run` runs it: assessed in a read-only session first, then written."""
    monitor = QualityMonitor(BOOK)
    return DurableConsumer(
        name="quality", sessions=sessions, batch_handler=monitor.handle, prepare=monitor.prepare
    )


def _findings(sessions: sessionmaker[Session], cid: str) -> list[Finding]:
    with reading(sessions) as s:
        return list(s.scalars(select(Finding).where(Finding.conversation_id == cid).order_by(Finding.rule)))


def _card(sessions: sessionmaker[Session], cid: str) -> Scorecard:
    with reading(sessions) as s:
        card = s.get(Scorecard, cid)
        assert card is not None
        return card


def _alert_events(sessions: sessionmaker[Session]) -> list[str]:
    with reading(sessions) as s:
        return list(
            s.scalars(select(outbox.EventRecord.payload).where(outbox.EventRecord.type == "quality.alert"))
        )


async def test_an_agents_promise_is_found_scored_and_alerted_once(
    desk: Desk, consumer: DurableConsumer, sessions: sessionmaker[Session]
) -> None:
    cid = desk.conversation()
    desk.say(cid, "customer", "这个理财安全吗？")
    said = desk.say(cid, "agent", "放心，这款理财保本保收益，风险等级R2")
    await desk.publish()
    assert await consumer.catch_up() > 0

    found = _findings(sessions, cid)
    assert [(f.rule, f.message_id, f.evidence) for f in found] == [("absolute_promise", said, "保本")]
    assert found[0].span_start == 7 and found[0].verdict == "pending"
    card = _card(sessions, cid)
    assert card.score == 75.0 and card.compliance_findings == 1 and card.fcr is True
    with reading(sessions) as s:
        alerts = list(s.scalars(select(Alert).where(Alert.conversation_id == cid)))
    assert [(a.kind, a.severity, a.status) for a in alerts] == [("absolute_promise", "high", "open")]
    assert len(_alert_events(sessions)) == 1

    # The alert's own event, and a second pass over the same conversation, add nothing.
    await desk.publish()
    desk.say(cid, "agent", "还有别的可以帮您吗？")
    await desk.publish()
    await consumer.catch_up()
    assert len(_findings(sessions, cid)) == 1
    assert len(_alert_events(sessions)) == 1


async def test_a_clean_conversation_scores_full_marks(
    desk: Desk, consumer: DurableConsumer, sessions: sessionmaker[Session]
) -> None:
    cid = desk.conversation()
    desk.say(cid, "customer", "我的卡丢了", intent="card_lost_or_stolen", emotion=("fear", 0.5))
    desk.say(cid, "agent", "您最好先挂失。这款理财不保本，风险等级R3，投资须谨慎。请勿向任何人透露验证码。")
    await desk.publish()
    await consumer.catch_up()
    assert _findings(sessions, cid) == []
    card = _card(sessions, cid)
    assert (card.score, card.findings, card.conflict, card.fcr, card.topic) == (
        100.0,
        0,
        False,
        True,
        "card_lost_or_stolen",
    )


async def test_rising_anger_raises_a_conflict_alert(
    desk: Desk, consumer: DurableConsumer, sessions: sessionmaker[Session]
) -> None:
    cid = desk.conversation()
    desk.say(cid, "customer", "为什么又扣了我年费？", emotion=("anger", 0.5))
    desk.say(cid, "agent", "我帮您查一下")
    desk.say(cid, "customer", "你们到底怎么回事！！", emotion=("anger", 0.8))
    await desk.publish()
    await consumer.catch_up()
    assert [f.rule for f in _findings(sessions, cid)] == ["rising_anger"]
    assert _card(sessions, cid).conflict is True
    with reading(sessions) as s:
        assert s.scalar(select(Alert.kind).where(Alert.conversation_id == cid)) == "rising_anger"


async def test_a_product_above_the_customers_tolerance(
    desk: Desk, consumer: DurableConsumer, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        s.add(
            BankCustomer(
                ref="Q000001",
                name_zh="王秀英",
                name_en="Wang Xiuying",
                gender="F",
                birth_date=date(1950, 3, 1),
                segment="mass",
                value_tier="gold",
                risk_tolerance="conservative",
                preferred_language="zh-Hans",
                phone="+8613800000000",
                city="上海",
                customer_since=date(2001, 1, 1),
            )
        )
    cid = desk.conversation(bank_ref="Q000001")
    desk.say(cid, "customer", "有什么收益高一点的？")
    desk.say(cid, "agent", "推荐您这只科技股票型基金，近一年业绩不错")
    await desk.publish()
    await consumer.catch_up()
    assert {f.rule for f in _findings(sessions, cid)} == {"unsuitable_sale", "missing_risk_disclosure"}


async def test_contact_again_about_the_same_topic_within_7_days_is_not_first_contact_resolution(
    desk: Desk, consumer: DurableConsumer, sessions: sessionmaker[Session]
) -> None:
    first = desk.conversation(bank_ref="R1", started=utcnow() - timedelta(days=2))
    desk.say(
        first, "customer", "信用卡年费怎么收？", intent="card_annual_fee", at=utcnow() - timedelta(days=2)
    )
    await desk.publish()
    await consumer.catch_up()
    assert _card(sessions, first).fcr is True

    again = desk.conversation(bank_ref="R1")
    desk.say(again, "customer", "年费还是被扣了", intent="card_annual_fee")
    await desk.publish()
    await consumer.catch_up()
    assert _card(sessions, first).fcr is False
    assert [f.rule for f in _findings(sessions, first)] == ["repeat_contact"]
    assert _card(sessions, again).fcr is True


async def test_a_failed_batch_stores_nothing_and_runs_again(
    desk: Desk, sessions: sessionmaker[Session]
) -> None:
    monitor = QualityMonitor(BOOK)
    calls = {"n": 0}

    def crash_once(s: Session, events: list[Event]) -> None:
        monitor.handle(s, events)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the process died mid-batch")

    cid = desk.conversation()
    desk.say(cid, "agent", "你听不懂吗？我说了三遍了")
    await desk.publish()
    consumer = DurableConsumer(name="quality", sessions=sessions, batch_handler=crash_once)
    with pytest.raises(RuntimeError):
        await consumer.catch_up()
    assert _findings(sessions, cid) == [] and consumer.offset() == 0
    await consumer.catch_up()
    assert [f.rule for f in _findings(sessions, cid)] == ["rude"]
    with reading(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 1


async def test_a_vip_waiting_past_the_sla_raises_one_alert(
    desk: Desk, sessions: sessionmaker[Session]
) -> None:
    cid = desk.conversation()
    with transaction(sessions) as s:
        conv = s.get(Conversation, cid)
        assert conv is not None
        s.add(
            Handoff(
                conversation_id=cid,
                customer_id=conv.customer_id,
                queue="relationship_manager",
                reason="asked",
                language="zh-Hans",
                priority=60,
                sla_seconds=20,
                explanation="VIP asked for a person",
                packet={"customer": {"value_tier": "vip"}},
                created_at=utcnow() - timedelta(seconds=45),
            )
        )
    monitor = QualityMonitor(BOOK)
    for _ in range(2):
        with transaction(sessions) as s:
            monitor.sweep(s)
    with reading(sessions) as s:
        alerts = list(s.scalars(select(Alert)))
    assert [(a.kind, a.queue, a.detail["tier"]) for a in alerts] == [
        ("vip_wait", "relationship_manager", "vip")
    ]
    assert len(_alert_events(sessions)) == 1


async def test_a_low_rating_after_the_close_is_scored(
    desk: Desk, consumer: DurableConsumer, sessions: sessionmaker[Session]
) -> None:
    cid = desk.conversation()
    desk.say(cid, "customer", "等了太久，问题也没解决")
    await desk.publish()
    await consumer.catch_up()
    assert _card(sessions, cid).csat is None
    with transaction(sessions) as s:
        conv = s.get(Conversation, cid)
        assert conv is not None
        s.add(CsatRating(conversation_id=cid, customer_id=conv.customer_id, score=1, comment="没人理我"))
        outbox.record(s, [ConversationRated(conversation_id=cid, score=1, has_comment=True)])
    await desk.publish()
    await consumer.catch_up()
    card = _card(sessions, cid)
    assert card.csat == 1 and card.score < 100
    low = [f for f in _findings(sessions, cid) if f.rule == "low_csat"]
    assert len(low) == 1 and low[0].evidence == "没人理我"


async def test_anger_rising_while_a_person_has_the_conversation_is_read_by_the_emotion_model(
    desk: Desk, sessions: sessionmaker[Session], model_root: Path
) -> None:
    """Messages sent to a person carry no NLU of the bot's; the monitor reads their emotion itself."""
    cid = desk.conversation()
    desk.say(cid, "customer", "你们到底怎么回事？扣了我两次钱！")
    desk.say(cid, "agent", "您好，我看一下")
    desk.say(cid, "customer", "气死我了！！！你们这什么破银行，马上给我退钱！！！")
    await desk.publish()
    reader = emotion_reader(model_root / "retail_bank")
    assert reader is not None
    consumer = DurableConsumer(
        name="quality", sessions=sessions, batch_handler=QualityMonitor(BOOK, emotions=reader).handle
    )
    await consumer.catch_up()
    assert [f.rule for f in _findings(sessions, cid)] == ["rising_anger"]
    with reading(sessions) as s:
        assert s.scalar(select(Alert.kind).where(Alert.conversation_id == cid)) == "rising_anger"
