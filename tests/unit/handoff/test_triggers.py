"""When the bot hands over: each trigger fires on its own evidence and not on a single word."""

from __future__ import annotations

from datetime import date

import pytest

from helixdesk.bank.connector import Customer
from helixdesk.core.turn import Emotion, Intent, RiskSignal, Turn
from helixdesk.dialogue.triggers import TurnHistory, check_bot_failed, check_triggers, more_urgent
from helixdesk.handoff.policy import load_handoff_policy
from helixdesk.packs.loader import load_pack

POLICY = load_handoff_policy(load_pack("retail_bank").path / "handoff" / "policy.yaml").triggers
TODAY = date(2026, 11, 30)


def profile(*, age: int = 40, tier: str = "standard") -> Customer:
    return Customer(
        ref="C1",
        name_zh="王伟",
        name_en="Wei Wang",
        gender="M",
        birth_date=date(TODAY.year - age, 1, 1),
        segment="mass",
        value_tier=tier,
        risk_tolerance="balanced",
        preferred_language="zh-Hans",
        phone="+8613800000000",
        email=None,
        city="上海",
        customer_since=date(2020, 1, 1),
        interests=(),
        relationship_manager="RM001" if tier in ("vip", "platinum") else None,
    )


def turn(text: str, intent: str = "balance_inquiry", *, risk=(), emotion=("neutral", 0.1)) -> Turn:
    return Turn(
        text=text,
        normalized=text.lower(),
        intent=Intent(intent, 0.9),
        emotion=Emotion(emotion[0], emotion[1]),
        risk=tuple(RiskSignal(t, e, 0, len(e), w) for t, e, w in risk),
    )


def history(emotions=(("neutral", 0.1),), intents=("balance_inquiry",), low=0, resolved=False) -> TurnHistory:
    return TurnHistory(
        emotions=tuple(emotions), intents=tuple(intents), low_confidence=low, resolved_last_turn=resolved
    )


def check(t: Turn, h: TurnHistory | None = None, p: Customer | None = None):
    return check_triggers(t, h or history(), policy=POLICY, profile=p, today=TODAY)


def test_strong_fraud_goes_to_the_fraud_queue_with_its_evidence():
    found = check(turn("我的卡被盗刷了", "card_fraud_report", risk=[("fraud", "被盗刷", 0.9)]))
    assert (found.reason, found.queue, found.evidence) == ("fraud_risk", "fraud", "被盗刷")


def test_weak_fraud_wording_and_doubted_charges_let_the_bot_show_the_facts_first():
    assert check(turn("有一笔莫名的扣款", "balance_inquiry", risk=[("fraud", "莫名的扣款", 0.7)])) is None
    doubted = turn("这笔不是我买的", "unrecognized_transaction", risk=[("fraud", "不是我买", 0.85)])
    assert check(doubted) is None


def test_crisis_wording_goes_to_a_senior_at_once():
    found = check(turn("我不想活了", "loan_repayment_hardship", risk=[("vulnerability", "不想活了", 1.0)]))
    assert (found.reason, found.queue) == ("crisis", "senior")


def test_an_elderly_customer_asking_for_a_high_risk_product_goes_to_a_senior():
    found = check(turn("有什么高收益的理财", "wealth_product_inquiry"), p=profile(age=78))
    assert (found.reason, found.queue) == ("vulnerability", "senior")
    assert check(turn("查一下余额", "balance_inquiry"), p=profile(age=78)) is None


def test_a_vip_asking_about_wealth_goes_to_their_relationship_manager():
    found = check(turn("最近有什么理财推荐", "wealth_product_inquiry"), p=profile(tier="vip"))
    assert (found.reason, found.queue) == ("vip_wealth", "relationship_manager")
    assert check(turn("最近有什么理财推荐", "wealth_product_inquiry"), p=profile(tier="standard")) is None


def test_escalation_to_a_regulator_goes_to_a_senior():
    found = check(turn("我要去银保监会投诉", "complaint", risk=[("escalation", "银保监会", 0.9)]))
    assert (found.reason, found.queue) == ("escalation", "senior")


def test_one_angry_word_is_not_a_trend_but_rising_anger_is():
    angry_once = history(emotions=[("neutral", 0.1), ("neutral", 0.2), ("anger", 0.7)])
    assert check(turn("太慢了"), angry_once) is None
    rising = history(emotions=[("anger", 0.4), ("anger", 0.6), ("anger", 0.8)])
    found = check(turn("你们到底管不管"), rising)
    assert (found.reason, found.queue) == ("emotion_rising", "general")
    sustained = history(emotions=[("fear", 0.85), ("fear", 0.9)])
    assert check(turn("怎么办怎么办"), sustained).reason == "emotion_rising"


def test_the_customer_saying_it_did_not_help_hands_over():
    after_a_reply = history(intents=["card_declined", "card_declined"])
    assert check(turn("你说的这些没用"), after_a_reply).reason == "not_helped"
    assert check(turn("That didn't help at all"), after_a_reply).reason == "not_helped"
    assert check(turn("說了等於沒說"), history(resolved=True)).reason == "not_helped"


def test_not_used_is_not_not_helped():
    # 没用 = "have not used" here, and the first message answers no reply of the bot's.
    first = check(turn("卡之前冻结了，一直没用，现在想补办", "card_reissue"))
    assert first is None
    later = history(intents=["balance_inquiry", "card_reissue"])
    assert check(turn("卡之前冻结了，一直没用，现在想补办", "card_reissue"), later) is None
    assert check(turn("這張卡一直冇用過", "card_reissue"), later) is None


def test_fraud_reports_reach_the_fraud_queue_on_the_first_message():
    # A fraud-report intent is enough, with no pattern matched ("someone took money off my card").
    by_intent = check(turn("someone took money off my card", "card_fraud_report"))
    assert (by_intent.reason, by_intent.queue) == ("fraud_risk", "fraud")
    # The strongest signals win even where the bot would show the facts first.
    scam = turn(
        "我把验证码给了自称客服的人，丢了卡", "card_lost_or_stolen", risk=[("fraud", "验证码给了", 0.9)]
    )
    assert check(scam).queue == "fraud"
    # A doubted charge alone still gets the facts first.
    doubted = turn("这笔不是我买的", "unrecognized_transaction", risk=[("fraud", "不是我买", 0.85)])
    assert check(doubted) is None


def test_the_same_request_three_times_unresolved_hands_over():
    same = history(intents=["card_declined"] * 3)
    assert check(turn("卡还是刷不了", "card_declined"), same).reason == "repeated_request"
    assert (
        check(turn("卡还是刷不了", "card_declined"), history(intents=["card_declined"] * 3, resolved=True))
        is None
    )
    assert check(turn("你好", "greeting"), history(intents=["greeting"] * 3)) is None


def test_several_unclear_turns_hand_over():
    assert check_bot_failed(2, policy=POLICY) is None
    assert check_bot_failed(3, policy=POLICY).reason == "bot_failed"
    assert check(turn("嗯嗯啊", "out_of_scope"), history(low=5)) is None  # decided after the bot's turn


def test_fraud_is_more_urgent_than_every_other_queue():
    assert more_urgent("fraud", "senior") and more_urgent("senior", "general")
    assert not more_urgent("general", "fraud")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("triggers:\n  fraud_queue: nowhere\nrouting:\n  queues: {}\n", "routing.queues"),
        ("routing:\n  queues:\n    fraud: {base: 80, sla_seconds: 60}\n", "routing"),
        ("routing: [1, 2]\n", "routing"),
        (": : :\n", "cannot read"),
    ],
)
def test_a_bad_policy_file_names_the_field(tmp_path, text, field):
    from helixdesk.core.errors import ConfigurationError

    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as e:
        load_handoff_policy(path)
    assert e.value.code == "handoff_policy_invalid" and field in e.value.detail
