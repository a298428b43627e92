"""Which customer messages go to the labelling queue, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helixdesk.learning.sampling import (
    Corrections,
    Msg,
    SamplingRates,
    candidate_reasons,
    needs_two,
    sampled_reasons,
)
from helixdesk.packs.loader import load_pack

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CORRECTIONS = Corrections.load(load_pack("retail_bank").path)


def customer(seq: int, text: str, intent: str | None = "balance_inquiry", confidence: float = 0.9) -> Msg:
    nlu = {"intent": {"name": intent, "confidence": confidence}} if intent is not None else None
    return Msg(f"m{seq}", seq, "customer", text, T0 + timedelta(minutes=seq), nlu)


def bot(seq: int, text: str = "好的", kind: str = "answer") -> Msg:
    return Msg(f"m{seq}", seq, "bot", text, T0 + timedelta(minutes=seq), kind=kind)


def reasons(messages: list[Msg]) -> dict[str, list[str]]:
    return candidate_reasons(messages, CORRECTIONS, confidence_below=0.5)


def test_out_of_scope_and_low_confidence_messages_are_candidates_and_confident_ones_are_not():
    found = reasons(
        [
            customer(1, "今天天气怎么样", "out_of_scope", 0.8),
            bot(2),
            customer(3, "那个钱的事", "transfer_status", 0.31),
            bot(4),
            customer(5, "查余额", "balance_inquiry", 0.97),
        ]
    )
    assert found == {"m1": ["out_of_scope"], "m3": ["low_confidence"]}


@pytest.mark.parametrize(
    "correction",
    [
        "不是这个，我是说我的信用卡额度",
        "我的意思是转账还没到",
        "不對，我是說掛失",
        "No, I meant my credit card",
        "you misunderstood me",
    ],
)
def test_a_customer_correcting_the_bot_marks_their_previous_message(correction):
    found = reasons(
        [
            customer(1, "卡", "card_activation", 0.9),
            bot(2),
            customer(3, correction, "credit_limit_increase", 0.9),
        ]
    )
    assert found == {"m1": ["corrected"]}


def test_a_fraud_report_that_starts_with_no_is_not_a_correction():
    found = reasons(
        [customer(1, "昨晚有笔消费", "transaction_inquiry", 0.9), bot(2), customer(3, "不是我买的，是盗刷")]
    )
    assert found == {}


def test_the_last_understood_message_before_the_bot_hands_over_is_a_candidate():
    messages = [
        customer(1, "查余额"),
        bot(2),
        customer(3, "我要投诉", "complaint", 0.95),
        bot(4, "非常抱歉"),
        bot(5, "正在为您转接", kind="handoff"),
        customer(6, "好的", intent=None),  # with a person now: the bot does not read it
    ]
    assert reasons(messages) == {"m3": ["handed_over"]}


def test_messages_the_bot_did_not_understand_are_not_candidates():
    found = reasons([customer(1, "你好", intent=None), customer(2, "不是这个，我是说余额")])
    assert found == {}


def test_a_message_can_have_several_reasons_in_a_fixed_order():
    messages = [
        customer(1, "那个", "out_of_scope", 0.6),
        bot(2, "转人工", kind="handoff"),
        customer(3, "我的意思是查账单"),
    ]
    assert reasons(messages) == {"m1": ["out_of_scope", "corrected", "handed_over"]}


def test_sampling_follows_each_reasons_rate_and_is_stable():
    none = SamplingRates(low_confidence=0, out_of_scope=0, corrected=0, handed_over=0)
    assert sampled_reasons("m1", ["low_confidence", "out_of_scope"], none) == []
    assert sampled_reasons("m1", ["flagged"], none) == ["flagged"]  # an agent's flag is never sampled away
    half = SamplingRates(low_confidence=50, out_of_scope=50, corrected=50, handed_over=50)
    picked = [i for i in range(2000) if sampled_reasons(f"msg-{i}", ["low_confidence"], half)]
    assert 850 < len(picked) < 1150
    assert picked == [i for i in range(2000) if sampled_reasons(f"msg-{i}", ["low_confidence"], half)]
    assert sum(needs_two(f"msg-{i}", 10) for i in range(2000)) in range(140, 260)
    assert not any(needs_two(f"msg-{i}", 0) for i in range(100))
