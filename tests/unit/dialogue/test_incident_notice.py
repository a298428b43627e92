"""An affected customer hears about an incident first, once per conversation; nobody else hears of it.

`decide` is run as the executor would (no database, no NLU model): the context carries the active
incidents, the conversation's channel and what the customer holds; the pack's templates word the
replies, so the tests read what the customer reads.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from helixdesk.bank.connector import Customer
from helixdesk.core.turn import Intent, RiskSignal, Turn
from helixdesk.dialogue.context import CustomerContext, TurnContext
from helixdesk.dialogue.decide import Decider, Decision
from helixdesk.dialogue.effects import Ask, Choices, IncidentExplained, KnowledgeReply, ListChoices, Result
from helixdesk.dialogue.state import DialogueState
from helixdesk.edge.wiring import PackConfig
from helixdesk.incidents.rules import Incident
from helixdesk.nlg.replies import ReplyWriter
from helixdesk.packs.loader import load_pack

NOW = datetime(2026, 12, 4, 1, 30, tzinfo=UTC)  # 09:30 at the bank (UTC+8)
FIX = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)  # 12:00 at the bank
APP_DOWN = Incident(
    id="inc-app",
    kind="app_error",
    title={"zh-Hans": "手机银行登录异常", "en": "Mobile app sign-in failing"},
    explanation={
        "zh-Hans": "部分客户登录手机银行时提示系统繁忙",
        "en": "Some customers cannot sign in to the app.",
    },
    products=frozenset({"mobile_app"}),
    channels=frozenset(),
    regions=frozenset(),
    started_at=NOW - timedelta(hours=1),
    expected_fix_at=FIX,
    status="open",
    resolved_at=None,
    version=3,
)
PAYROLL_LATE = replace(
    APP_DOWN,
    id="inc-payroll",
    kind="delayed_batch",
    title={"zh-Hans": "代发工资延迟入账"},
    explanation={"zh-Hans": "今天的代发工资批次延迟处理，款项不会丢失。"},
    products=frozenset({"payroll"}),
    expected_fix_at=None,
    version=1,
)
HOLDS = frozenset({"mobile_app", "savings_account", "debit_card", "transfer"})


@pytest.fixture(scope="module")
def pack() -> PackConfig:
    return PackConfig.load(load_pack("retail_bank"), code_length=6)


def profile(city: str = "上海") -> Customer:
    return Customer(
        ref="C000042", name_zh="王芳", name_en="Fang Wang", gender="F", birth_date=date(1985, 5, 1),
        segment="mass", value_tier="standard", risk_tolerance="balanced", preferred_language="zh-Hans",
        phone="13800138000", email=None, city=city, customer_since=date(2015, 1, 1), interests=(),
    )  # fmt: skip


def context(
    incidents: tuple[Incident, ...],
    *,
    products: frozenset[str] | None = HOLDS,
    signed_in: bool = True,
    channel: str = "app",
    state: DialogueState | None = None,
    city: str = "上海",
) -> TurnContext:
    return TurnContext(
        conversation_id="conv-1",
        message_id="msg-1",
        language=None,
        customer=CustomerContext(
            customer_id="cust-1",
            customer_ref="C000042" if signed_in else None,
            profile=profile(city) if signed_in else None,
            products=products if signed_in else None,
        ),
        state=state or DialogueState(issues_raised=True),
        verified=False,
        now=NOW,
        channel=channel,
        incidents=incidents,
    )


def says(text: str, intent: str | None = None, **changes: Any) -> Turn:
    turn = Turn(
        text=text,
        normalized=text.lower(),
        language="en" if text.isascii() else "zh-Hans",
        intent=Intent(intent, 0.95) if intent else None,
        intent_ranking=(Intent(intent, 0.95),) if intent else (),
    )
    return turn.with_(**changes)


def decide(pack: PackConfig, ctx: TurnContext, turn: Turn) -> tuple[Decision, list[str]]:
    """Decide as the executor would (every knowledge question unanswered), and word the replies."""
    decider = Decider(pack.dialogue)
    results: dict[Ask, Result] = {}
    decision = decider.decide(ctx, turn, results)
    while decision.pending is not None:
        ask = decision.pending
        results[ask] = Choices(()) if isinstance(ask, ListChoices) else KnowledgeReply(grounded=False)
        decision = decider.decide(ctx, turn, results)
    writer = ReplyWriter(templates=pack.templates, style_policy=pack.dialogue.style)
    replies = writer.write(
        decision.says,
        turn=turn,
        language=decision.language,
        style=decision.style,
        profile=ctx.customer.profile,
    )
    return decision, [r.text for r in replies]


def explained(decision: Decision) -> list[str]:
    return [c.incident_id for c in decision.changes if isinstance(c, IncidentExplained)]


def test_the_affected_customers_first_reply_is_the_explanation_then_the_answer(pack):
    decision, texts = decide(pack, context((APP_DOWN,)), says("你好", "greeting"))
    assert [s.key for s in decision.says] == ["incident.notice", "reply.greeting"]
    assert decision.says[0].kind == "incident"
    assert texts[0] == (
        "【服务通知】手机银行登录异常：部分客户登录手机银行时提示系统繁忙。"
        "预计2026年12月4日 12:00（北京时间）前恢复。给您带来不便，非常抱歉。"
    )
    assert "您好" in texts[1]
    assert decision.state.incidents_told == ["inc-app"]
    assert decision.changes == (IncidentExplained("inc-app", 3),)


def test_it_is_told_once_per_conversation(pack):
    first, _ = decide(pack, context((APP_DOWN,)), says("你好", "greeting"))
    second, texts = decide(
        pack, context((APP_DOWN,), state=first.state), says("我的余额是多少", "check_balance")
    )
    assert "incident.notice" not in [s.key for s in second.says]
    assert explained(second) == [] and second.state.incidents_told == ["inc-app"]
    assert not any("服务通知" in t for t in texts)


def test_an_unaffected_customer_hears_nothing_of_it(pack):
    for ctx in (
        context((APP_DOWN,), products=frozenset({"credit_card"})),  # no app
        context((replace(APP_DOWN, channels=frozenset({"app"})),), channel="web"),  # another channel
        context((replace(APP_DOWN, regions=frozenset({"广东"})),), city="北京"),  # another region
        context((replace(APP_DOWN, status="resolved", resolved_at=NOW - timedelta(minutes=1)),)),
        context((APP_DOWN,), signed_in=False),  # anonymous: the incident names a product
    ):
        decision, texts = decide(pack, ctx, says("你好", "greeting"))
        assert [s.key for s in decision.says] == ["reply.greeting"]
        assert explained(decision) == [] and decision.state.incidents_told == []
        assert not any("服务通知" in t for t in texts)


def test_an_anonymous_visitor_hears_of_an_incident_that_only_names_channels(pack):
    web_down = replace(APP_DOWN, products=frozenset(), channels=frozenset({"web"}))
    decision, _ = decide(pack, context((web_down,), signed_in=False, channel="web"), says("你好", "greeting"))
    assert explained(decision) == ["inc-app"]


def test_in_english_with_only_chinese_written_the_chinese_text_is_told_in_english_words(pack):
    ctx = context((PAYROLL_LATE,), products=HOLDS | {"payroll"})
    decision, texts = decide(pack, ctx, says("hello", "greeting"))
    assert decision.language == "en"
    assert texts[0].startswith(
        "Service notice — 代发工资延迟入账: 今天的代发工资批次延迟处理，款项不会丢失。"
    )
    assert "We are working on it" in texts[0]  # no fix time given
    assert explained(decision) == ["inc-payroll"]


def test_in_traditional_chinese_the_simplified_text_is_converted(pack):
    decision, texts = decide(pack, context((APP_DOWN,)), says("你好", "greeting", language="zh-Hant"))
    assert decision.language == "zh-Hant"
    assert texts[0].startswith("【服務通知】手機銀行登錄異常：部分客戶登錄手機銀行時提示系統繁忙。預計")


def test_a_monitoring_incident_says_service_is_back(pack):
    watched = replace(APP_DOWN, status="monitoring")
    _, texts = decide(pack, context((watched,)), says("hello", "greeting"))
    assert "Service is back" in texts[0] and "fixed by" not in texts[0]


def test_two_are_told_at_once_and_a_third_in_the_next_reply(pack):
    third = replace(APP_DOWN, id="inc-3", title={"en": "Card payments slow"}, explanation={"en": "Slow."})
    incidents = (APP_DOWN, replace(PAYROLL_LATE, products=frozenset()), third)
    first, _ = decide(pack, context(incidents), says("hi", "greeting"))
    assert explained(first) == ["inc-app", "inc-payroll"]
    second, texts = decide(pack, context(incidents, state=first.state), says("thanks", "praise"))
    assert explained(second) == ["inc-3"] and texts[0].startswith(
        "Service notice — Card payments slow: Slow."
    )


def test_the_explanation_stays_first_when_a_person_takes_over(pack):
    turn = says("有人盗刷了我的卡", "card_fraud_report", risk=(RiskSignal("fraud", "盗刷", 2, 4, 1.0),))
    decision, texts = decide(pack, context((APP_DOWN,)), turn)
    assert decision.handover is not None and decision.handover.queue == "fraud"
    keys = [s.key for s in decision.says]
    assert keys[0] == "incident.notice" and "handoff.now" in keys
    assert texts[0].startswith("【服务通知】") and explained(decision) == ["inc-app"]
