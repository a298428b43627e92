"""Empathy openings fit the emotion and the situation, and never land on a routine request.

The misfires testers saw and the cases that do call for an opening go through the real NLU of the
default pack (the intent and emotion models trained for this test run, the risk patterns) and the
pack's style policy and templates; the policy's own rules are checked on hand-made turns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.turn import Emotion, Intent, RiskSignal, Turn
from helixdesk.edge.wiring import PackConfig
from helixdesk.nlg.empathy import EmpathyPolicy, choose_empathy
from helixdesk.nlg.replies import ReplyWriter, Say
from helixdesk.nlg.style import StylePolicy
from helixdesk.packs.loader import load_pack


@pytest.fixture(scope="module")
def config() -> PackConfig:
    return PackConfig.load(load_pack("retail_bank"), code_length=6)


@pytest.fixture(scope="module")
def policy(config: PackConfig) -> EmpathyPolicy:
    return config.dialogue.style.empathy


@pytest.fixture(scope="module")
def writer(config: PackConfig) -> ReplyWriter:
    return ReplyWriter(templates=config.templates, style_policy=config.dialogue.style)


def understand(nlu_pipeline, text: str, previous: str | None = None) -> Turn:  # type: ignore[no-untyped-def]
    """The turn as the conversation service builds it: the previous message's emotion as context."""
    before = None
    if previous is not None:
        seen = nlu_pipeline.parse(previous).emotion
        before = Emotion(seen.label, seen.intensity)
    turn: Turn = nlu_pipeline.parse(text, previous_emotion=before)
    return turn


def opening_of(writer: ReplyWriter, turn: Turn, language: str, style: str = "warm") -> str:
    """The reply to `turn` minus the reply without any opening: the opening's words, or ""."""
    said = [Say("dialogue.anything_else")]
    full = writer.write(said, turn=turn, language=language, style=style, profile=None)[0].text
    plain = writer.templates.render("dialogue.anything_else", language=language, style=style)
    assert full.endswith(plain)
    return full[: -len(plain)].strip()


# ---------- the misfires: routine requests get no opening ----------

ROUTINE = [
    ("我的卡坏了，想补办一张", "zh-Hans", None),
    ("我要补办银行卡", "zh-Hans", None),
    ("卡之前冻结了，一直没用，现在想补办", "zh-Hans", None),
    ("I found my card again, can I unfreeze it?", "en", None),
    ("請幫我補辦一張卡", "zh-Hant", None),
    ("I need a replacement card", "en", None),
    ("it was me who bought it", "en", "What is this charge on my statement?"),
    ("是我自己买的", "zh-Hans", "这笔扣款是什么？"),
    ("Could I speak to a person, please?", "en", None),
    ("麻烦帮我转人工，谢谢", "zh-Hans", None),
    ("我今年70岁了，想把存款放到这个理财产品里，可以吗？", "zh-Hans", None),
    ("I'm 72 and thinking of putting my savings into this fund, is it a good idea?", "en", None),
]


@pytest.mark.parametrize(("text", "language", "previous"), ROUTINE)
def test_a_routine_request_gets_no_empathy_opening(
    nlu_pipeline,  # type: ignore[no-untyped-def]
    policy: EmpathyPolicy,
    writer: ReplyWriter,
    text: str,
    language: str,
    previous: str | None,
) -> None:
    turn = understand(nlu_pipeline, text, previous)
    assert choose_empathy(turn, policy) is None, (turn.intent, turn.emotion)
    for style in ("warm", "patient"):
        assert opening_of(writer, turn, language, style) == ""


def test_an_elderly_customer_asking_about_a_product_gets_no_condolence(
    nlu_pipeline,  # type: ignore[no-untyped-def]
    writer: ReplyWriter,
) -> None:
    turn = understand(nlu_pipeline, "我今年70岁了，想把存款放到这个理财产品里，可以吗？")
    assert any(r.type == "vulnerability" and r.tag == "age" for r in turn.risk)  # seen, and not a loss
    reply = writer.write(
        [Say("dialogue.anything_else")], turn=turn, language="zh-Hans", style="patient", profile=None
    )
    assert "难过" not in reply[0].text and "节哀" not in reply[0].text


# ---------- the situations and feelings that do call for one ----------

CALLS_FOR = [
    ("我的卡被盗刷了两万块，怎么办啊，急死了", "zh-Hans", "fraud", "资金"),
    (
        "Someone has been using my card abroad, I didn't make these payments and I'm terrified",
        "en",
        "fraud",
        "money",
    ),
    ("我老伴上周过世了，他的存款我怎么取", "zh-Hans", "condolence", "节哀"),
    ("老公上個月過身，佢個戶口點處理", "zh-Hant", "condolence", "節哀"),
    ("My husband passed away last month and I need to close his account", "en", "condolence", "loss"),
    ("I lost my job and can't make my loan repayments this month", "en", "hardship", "going through"),
    ("我要投诉，你们柜台的服务态度太差了", "zh-Hans", "apology", "抱歉"),
    (
        "This is the third time I've called about this, it's ridiculous, fix it NOW!!!",
        "en",
        "apology",
        "sorry",
    ),
    ("我怕下个月房贷还不上，真的很担心", "zh-Hans", "hardship", "一起"),
    ("最近新闻说有银行出问题，我存在这里的钱会不会有风险，真的很担心", "zh-Hans", "reassure", "担心"),
]


@pytest.mark.parametrize(("text", "language", "expected", "words"), CALLS_FOR)
def test_the_opening_fits_the_situation(
    nlu_pipeline,  # type: ignore[no-untyped-def]
    policy: EmpathyPolicy,
    writer: ReplyWriter,
    text: str,
    language: str,
    expected: str,
    words: str,
) -> None:
    turn = understand(nlu_pipeline, text)
    chosen = choose_empathy(turn, policy)
    assert chosen is not None and chosen[0] == expected, (turn.intent, turn.emotion, turn.risk)
    assert words in opening_of(writer, turn, language)


def test_a_panicking_fraud_victim_gets_the_strong_reassurance(
    nlu_pipeline,  # type: ignore[no-untyped-def]
    policy: EmpathyPolicy,
) -> None:
    turn = understand(nlu_pipeline, "救命！卡里的钱被人转走了五万，我快吓死了！！")
    assert choose_empathy(turn, policy) == ("fraud", True), turn.emotion


def test_a_pleased_customer_gets_no_reassurance_for_a_fraud_already_solved(
    nlu_pipeline,  # type: ignore[no-untyped-def]
    policy: EmpathyPolicy,
) -> None:
    turn = understand(nlu_pipeline, "太好了，被盗刷的钱追回来了，谢谢你们！")
    assert any(r.type == "fraud" for r in turn.risk)
    assert choose_empathy(turn, policy) is None, turn.emotion


# ---------- the policy's rules on hand-made turns ----------


def turn_of(label: str, intensity: float, intent: str | None = None, *risk: RiskSignal) -> Turn:
    return Turn(
        text="…",
        intent=Intent(intent, 0.9) if intent else None,
        emotion=Emotion(label, intensity),
        risk=tuple(risk),
    )


def test_a_routine_request_needs_a_clearly_strong_feeling(policy: EmpathyPolicy) -> None:
    assert choose_empathy(turn_of("sadness", 0.58, "card_lost_or_stolen"), policy) is None
    assert choose_empathy(turn_of("sadness", 0.58, "transfer_failed"), policy) == ("sad", False)
    assert choose_empathy(turn_of("anger", 0.9, "card_delivery"), policy) == ("apology", True)
    assert choose_empathy(turn_of("fear", 0.44, "human_agent"), policy) is None
    assert choose_empathy(turn_of("anger", 0.8, "praise"), policy) == ("apology", True)  # sarcasm
    assert choose_empathy(turn_of("joy", 0.9, "transfer_failed"), policy) is None
    assert choose_empathy(turn_of("anger", 0.3, "complaint"), policy) == ("apology", False)


def test_an_intent_alone_needs_a_negative_feeling_to_call_for_an_opening(policy: EmpathyPolicy) -> None:
    """ "没事了，刚才那笔是我老婆用我的卡买的" taken for a fraud report, "Sorry to bother you" for a
    complaint: the intent model's slip must not put reassurance or an apology in the reply."""
    assert choose_empathy(turn_of("neutral", 0.1, "card_fraud_report"), policy) is None
    assert choose_empathy(turn_of("neutral", 0.05, "complaint"), policy) is None
    assert choose_empathy(turn_of("fear", 0.3, "card_fraud_report"), policy) == ("fraud", False)
    stolen = RiskSignal("fraud", "被盗刷", 3, 6, 0.9)
    assert choose_empathy(turn_of("neutral", 0.1, "card_fraud_report", stolen), policy) == ("fraud", False)


def test_risk_tags_tell_a_loss_from_age_and_a_complaint_from_asking_for_a_person(
    policy: EmpathyPolicy,
) -> None:
    age = RiskSignal("vulnerability", "我今年七十了", 0, 6, 0.5, "age")
    loss = RiskSignal("vulnerability", "过世", 3, 5, 0.7, "bereavement")
    person = RiskSignal("escalation", "转人工", 2, 5, 0.5, "ask_for_person")
    regulator = RiskSignal("escalation", "金管局", 4, 7, 0.9, "regulator")
    assert choose_empathy(turn_of("neutral", 0.05, "wealth_product_inquiry", age), policy) is None
    assert choose_empathy(turn_of("sadness", 0.4, "account_closing", loss), policy) == ("condolence", False)
    assert choose_empathy(turn_of("neutral", 0.05, "human_agent", person), policy) is None
    assert choose_empathy(turn_of("anger", 0.75, None, regulator), policy) == ("apology", True)


def test_the_strong_wording_falls_back_to_the_plain_one(writer: ReplyWriter) -> None:
    loss = RiskSignal("vulnerability", "passed away", 3, 14, 0.7, "bereavement")
    turn = turn_of("sadness", 0.95, "account_closing", loss)  # strong, and condolence has no .strong
    assert opening_of(writer, turn, "en") == writer.templates.render("empathy.condolence", language="en")


def test_every_opening_has_words_in_every_language_and_style(
    policy: EmpathyPolicy, writer: ReplyWriter
) -> None:
    openings = set(policy.emotions) | set(policy.situations)
    for opening in openings:
        for language in ("zh-Hans", "zh-Hant", "en"):
            for style in ("warm", "concise", "lively", "patient"):
                assert writer.templates.render(f"empathy.{opening}", language=language, style=style)


def test_the_agent_consoles_suggested_openings_have_words(writer: ReplyWriter) -> None:
    from helixdesk.handoff.workspace import EMPATHY_FOR

    for opening in set(EMPATHY_FOR.values()):
        for language in ("zh-Hans", "zh-Hant", "en"):
            assert writer.templates.render(f"empathy.{opening}", language=language, style="warm")


def test_the_older_policy_form_still_loads_and_bad_ones_are_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text("empathy:\n  apology: {anger: 0.5}\n", "utf-8")
    loaded = StylePolicy.load(old).empathy
    assert loaded.emotions == {"apology": {"anger": 0.5}} and "condolence" in loaded.situations
    bad = tmp_path / "bad.yaml"
    bad.write_text("empathy:\n  emotions: {apology: {anger: 0.5}}\n  strongest: 0.9\n", "utf-8")
    with pytest.raises(ConfigurationError, match="strongest") as err:
        StylePolicy.load(bad)
    assert err.value.code == "invalid_style_policy"
