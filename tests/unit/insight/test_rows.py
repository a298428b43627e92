"""What a conversation contributes to insight: which messages become rows, and how each went."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from helixdesk.insight.rows import Handover, Msg, Rating, conversation_rows

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PRODUCTS = {"card_declined": "credit_card", "app_issue": "app"}


def nlu(intent: str | None, emotion: str = "neutral", language: str = "zh-Hans") -> dict[str, Any]:
    return {
        "language": language,
        "intent": {"name": intent, "confidence": 0.9} if intent else None,
        "emotion": {"label": emotion, "intensity": 0.6, "scores": {}},
    }


def msg(
    seq: int, sender: str, text: str, meta: dict[str, Any] | None = None, reply_to: str | None = None
) -> Msg:
    return Msg(
        id=f"m{seq}",
        seq=seq,
        sender=sender,
        text=text,
        at=T0 + timedelta(seconds=seq),
        meta=meta or {},
        in_reply_to=reply_to,
    )


def rows(messages: list[Msg], **kw: Any) -> list[Any]:
    base: dict[str, Any] = {
        "channel": "web",
        "language": "zh-Hans",
        "handovers": [],
        "rating": None,
        "closed": True,
        "products": PRODUCTS,
    }
    return conversation_rows(messages=messages, **(base | kw))


def test_a_question_the_bot_could_not_answer_is_unanswered_and_a_greeting_is_no_row() -> None:
    out = rows(
        [
            msg(1, "customer", "你好", {"nlu": nlu("greeting")}),
            msg(2, "bot", "您好", {"kind": "text"}, reply_to="m1"),
            msg(3, "customer", "新版APP闪退", {"nlu": nlu("app_issue", "anger")}),
            msg(4, "bot", "抱歉，我不知道", {"kind": "fallback"}, reply_to="m3"),
        ]
    )
    assert [r.id for r in out] == ["m3"]
    (row,) = out
    assert row.answered is False
    assert row.negative is True
    assert row.product == "app"
    assert row.handed_off is False and row.queue is None


def test_the_answer_to_the_bots_own_question_is_no_topic() -> None:
    out = rows(
        [
            msg(1, "customer", "卡刷不了", {"nlu": nlu("card_declined")}),
            msg(2, "bot", "请提供卡号后四位", {"kind": "prompt"}, reply_to="m1"),
            msg(3, "customer", "6621", {"nlu": nlu(None)}),
            msg(4, "bot", "查到了", {"kind": "text"}, reply_to="m3"),
        ]
    )
    assert [r.id for r in out] == ["m1"]
    assert out[0].answered is True


def test_a_handoff_marks_every_question_of_the_conversation_with_its_queue() -> None:
    out = rows(
        [
            msg(1, "customer", "卡刷不了", {"nlu": nlu("card_declined")}),
            msg(2, "bot", "答案", {"kind": "answer"}, reply_to="m1"),
            msg(3, "customer", "还是不行", {"nlu": nlu("card_declined", "anger")}),
            msg(4, "agent", "我来看看", {}),
            msg(5, "customer", "谢谢，那卡什么时候能用", {}),
        ],
        handovers=[Handover(queue="senior", at=T0 + timedelta(seconds=3.5))],
    )
    # m5, said to the person without going through the bot, is no question of its own.
    assert [(r.id, r.handed_off, r.queue) for r in out] == [("m1", True, "senior"), ("m3", True, "senior")]
    # The answer to m1 was followed by a negative message: rejected.
    assert out[0].rejected is True


def test_an_answer_followed_by_a_calm_question_is_not_rejected() -> None:
    out = rows(
        [
            msg(1, "customer", "年费多少", {"nlu": nlu("annual_fee")}),
            msg(2, "bot", "答案", {"kind": "answer"}, reply_to="m1"),
            msg(3, "customer", "那怎么减免", {"nlu": nlu("annual_fee")}),
        ]
    )
    assert [r.rejected for r in out] == [False, False]


def test_asking_for_a_person_after_an_answer_rejects_it_and_is_no_row_itself() -> None:
    out = rows(
        [
            msg(1, "customer", "年费多少", {"nlu": nlu("annual_fee")}),
            msg(2, "bot", "答案", {"kind": "answer"}, reply_to="m1"),
            msg(3, "customer", "转人工", {"nlu": nlu("human_agent")}),
        ]
    )
    assert [(r.id, r.rejected) for r in out] == [("m1", True)]


def test_the_message_of_a_running_turn_waits_and_a_redacted_code_is_never_a_row() -> None:
    running = [msg(1, "customer", "卡刷不了", {})]
    assert rows(running, closed=False) == []
    assert [r.id for r in rows(running, closed=True)] == ["m1"]
    coded = [msg(1, "customer", "***", {"nlu": nlu(None), "redacted": "one_time_code"})]
    assert rows(coded) == []


def test_a_rating_comment_is_a_row_of_its_own_and_every_row_carries_the_score() -> None:
    out = rows(
        [msg(1, "customer", "退款审核太慢", {"nlu": nlu("merchant_refund")})],
        rating=Rating(
            id="r1",
            score=2,
            comment="等了两周还没退",
            nlu=nlu("merchant_refund"),
            at=T0 + timedelta(minutes=5),
        ),
    )
    assert [(r.id, r.source, r.csat) for r in out] == [("m1", "chat", 2), ("r1", "csat", 2)]
    assert out[1].negative is True  # a low score is a negative comment whatever the emotion model says
