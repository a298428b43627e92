"""Emotional load of agents and the handoff packet's summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from helixdesk.bank.connector import Customer
from helixdesk.handoff.packet import Labels, PacketInput, StoredMessage, build_packet, negativity_of
from helixdesk.handoff.policy import load_handoff_policy
from helixdesk.packs.loader import load_pack
from helixdesk.routing.wellbeing import Handled, emotional_load

PACK = load_pack("retail_bank").path
WELLBEING = load_handoff_policy(PACK / "handoff" / "policy.yaml").wellbeing
LABELS = Labels.load(PACK / "handoff" / "labels.yaml")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def handled(negativity: float, minutes_ago_start: float, minutes_long: float | None) -> Handled:
    start = NOW - timedelta(minutes=minutes_ago_start)
    end = None if minutes_long is None else start + timedelta(minutes=minutes_long)
    return Handled(negativity=negativity, claimed_at=start, closed_at=end)


def test_load_weighs_negativity_by_duration_and_fades_with_time():
    fresh = emotional_load([handled(0.9, 20, 20)], now=NOW, policy=WELLBEING)
    assert 0.85 < fresh.load <= 0.9
    short = emotional_load([handled(0.9, 20, 3)], now=NOW, policy=WELLBEING)
    assert short.load < fresh.load / 2
    old = emotional_load([handled(0.9, 150, 20)], now=NOW, policy=WELLBEING)
    assert old.load < fresh.load / 3
    outside = emotional_load([handled(0.9, 600, 20)], now=NOW, policy=WELLBEING)
    assert outside.load == 0 and outside.conversations == 0


def test_a_run_of_intense_conversations_suggests_a_break():
    run = [handled(0.8, 60, 15), handled(0.9, 40, 15), handled(0.7, 20, None)]
    load = emotional_load(run, now=NOW, policy=WELLBEING)
    assert load.intense_in_a_row == 3 and load.break_suggested
    broken = emotional_load([*run[:2], handled(0.1, 20, None)], now=NOW, policy=WELLBEING)
    assert broken.intense_in_a_row == 0


def _nlu(intent, *, emotion=("neutral", 0.1), entities=(), risk=()):
    return {
        "nlu": {
            "intent": {"name": intent, "confidence": 0.9},
            "emotion": {"label": emotion[0], "intensity": emotion[1]},
            "entities": [{"type": t, "text": x, "value": x} for t, x in entities],
            "risk": [{"type": t, "evidence": e, "weight": 0.9} for t, e in risk],
        }
    }


def test_the_packet_keeps_the_facts_and_summarises_in_both_languages():
    messages = [
        StoredMessage(1, "customer", "你好", _nlu("greeting")),
        StoredMessage(2, "bot", "您好，请问有什么可以帮您？", {"kind": "text"}),
        StoredMessage(
            3,
            "customer",
            "我的卡被盗刷了，昨天有一笔三千五的消费",
            _nlu(
                "card_fraud_report",
                emotion=("fear", 0.8),
                entities=[("money", "三千五"), ("date", "昨天")],
                risk=[("fraud", "被盗刷")],
            ),
        ),
        StoredMessage(4, "bot", "为保护您的账户安全…验证码已发送", {"kind": "verification"}),
    ]
    profile = Customer(
        ref="C000009",
        name_zh="张敏",
        name_en="Min Zhang",
        gender="F",
        birth_date=date(1950, 5, 1),
        segment="private",
        value_tier="vip",
        risk_tolerance="conservative",
        preferred_language="zh-Hans",
        phone="+8613900000000",
        email=None,
        city="北京",
        customer_since=date(2001, 1, 1),
        interests=(),
    )
    packet = build_packet(
        PacketInput(
            messages=messages,
            trigger="fraud_risk",
            evidence="被盗刷",
            intent="card_fraud_report",
            queue="fraud",
            next_step="verify_and_freeze",
            verified=False,
            customer_ref="C000009",
            profile=profile,
            today=date(2026, 11, 30),
        ),
        LABELS,
    )
    assert packet.intents == ["card_fraud_report"]  # greetings are not a request
    assert {(e["type"], e["text"]) for e in packet.entities} == {("money", "三千五"), ("date", "昨天")}
    assert [b["kind"] for b in packet.bot_tried] == ["verification"]
    assert packet.emotions[-1] == {"seq": 3, "label": "fear", "intensity": 0.8}
    assert packet.customer["age"] == 76 and packet.identity == {"verified": False, "customer_ref": "C000009"}
    assert packet.key_messages[0]["seq"] == 3  # the telling sentence, not the greeting
    zh, en = packet.summary["zh-Hans"], packet.summary["en"]
    for part in (
        "VIP",
        "76岁",
        "盗刷/欺诈",
        "疑似欺诈",
        "金额 三千五",
        "未验证",
        "恐惧 0.8",
        "核实身份",
        "我的卡被盗刷了",
    ):
        assert part in zh, part
    for part in (
        "76 years old",
        "Fraud report",
        "suspected fraud",
        "not verified",
        "fear 0.8",
        "freeze the card",
    ):
        assert part in en, part
    assert negativity_of(packet.to_dict()["emotions"]) == 0.8


def test_an_anonymous_customer_is_said_to_be_not_signed_in():
    packet = build_packet(
        PacketInput(
            messages=[StoredMessage(1, "customer", "转人工", _nlu("human_agent"))],
            trigger="customer_request",
            evidence="",
            intent="human_agent",
            queue="general",
            next_step="read_and_resolve",
            verified=False,
            customer_ref=None,
            profile=None,
        ),
        LABELS,
    )
    assert "未登录" in packet.summary["zh-Hans"] and "not signed in" in packet.summary["en"]


def test_what_was_read_from_an_image_is_a_key_message_for_the_agent():
    meta = _nlu("unrecognized_transaction", entities=[("error_code", "E1023")])
    meta["image"] = {"kind": "error", "text": "登录失败\n错误代码：E1023", "fields": {"error_code": "E1023"}}
    packet = build_packet(
        PacketInput(
            messages=[StoredMessage(1, "customer", "", meta)],
            trigger="customer_request",
            evidence="",
            intent="human_agent",
            queue="general",
            next_step="read_and_resolve",
            verified=False,
            customer_ref=None,
            profile=None,
        ),
        LABELS,
    )
    assert [m["text"] for m in packet.key_messages] == ["🖼 登录失败 错误代码：E1023"]
