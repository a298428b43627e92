"""Stage `risk`: fraud, vulnerability, escalation and urgency signals, with cheap negation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.turn import RISK_TYPES, RiskSignal, Turn
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.nlu.risk import DEFAULT_RISK_PATTERNS_PATH, RiskDetector, RiskRule
from helixdesk.nlu.stage import build_stage, registered_stages
from helixdesk.nlu.stages.risk import RiskStage
from helixdesk.nlu.text import normalise


@pytest.fixture(scope="module")
def stage() -> RiskStage:
    s = RiskStage()
    s.warm_up()
    return s


def detect(stage: RiskStage, text: str) -> tuple[RiskSignal, ...]:
    turn = stage.run(Turn(text=text, normalized=normalise(text)))
    for r in turn.risk:
        assert text[r.start : r.end] == r.evidence, r
        assert r.type in RISK_TYPES
        assert 0 < r.weight <= 1
    assert [r.start for r in turn.risk] == sorted(r.start for r in turn.risk)
    json.dumps(turn.to_dict(), ensure_ascii=False)
    return turn.risk


def evidence(stage: RiskStage, text: str, kind: str) -> list[str]:
    return [r.evidence for r in detect(stage, text) if r.type == kind]


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        # fraud
        ("我的卡被盗刷了", "fraud", "被盗刷"),
        ("我好像被骗了", "fraud", "被骗"),
        ("对方让我把钱转到安全账户", "fraud", "安全账户"),
        ("有人冒充公检法给我打电话", "fraud", "冒充公检法"),
        ("有个冒充客服的人", "fraud", "冒充客服"),
        ("我把验证码给了别人", "fraud", "把验证码给了别人"),
        ("我不小心把验证码给了别人", "fraud", "把验证码给了别人"),
        ("验证码告诉对方了", "fraud", "验证码告诉对方"),
        ("这笔不是我本人消费的", "fraud", "不是我本人消费"),
        ("我是不是被骗了", "fraud", "被骗"),
        ("有没有被盗刷", "fraud", "被盗刷"),
        ("账户里有一笔莫名其妙的扣款", "fraud", "莫名其妙的扣款"),
        ("someone used my card in Spain", "fraud", "someone used my card"),
        ("I think this is a scam", "fraud", "scam"),
        ("I got scammed", "fraud", "scammed"),
        ("I clicked a phishing link", "fraud", "phishing"),
        ("I didn't make these charges", "fraud", "I didn't make these charges"),
        ("I did not make this transaction", "fraud", "I did not make this transaction"),
        ("I didn’t make these charges", "fraud", "I didn’t make these charges"),
        ("my account was hacked", "fraud", "hacked"),
        ("there are unauthorized transactions", "fraud", "unauthorized transactions"),
        ("I gave them my OTP", "fraud", "gave them my OTP"),
        ("They told me to move money to a safe account", "fraud", "safe account"),
        # Traditional script, code-switched
        ("我的卡被盜刷了", "fraud", "被盜刷"),
        ("我被騙了", "fraud", "被騙"),
        ("有人冒充客服叫我轉到安全賬戶", "fraud", "冒充客服"),
        ("我的card被盗刷了 please help", "fraud", "被盗刷"),
        ("I think 我被骗了", "fraud", "被骗"),
        # vulnerability
        ("我失业了", "vulnerability", "失业"),
        ("我最近生病了", "vulnerability", "生病"),
        ("我妈住院了", "vulnerability", "住院"),
        ("我得了癌症", "vulnerability", "癌症"),
        ("这个月实在还不上了", "vulnerability", "还不上"),
        ("我七十多了，不会用手机银行", "vulnerability", "我七十多了"),
        ("家里老人不会用", "vulnerability", "老人"),
        ("我老伴去世了", "vulnerability", "去世"),
        ("I lost my job last month", "vulnerability", "lost my job"),
        ("my dad is in hospital", "vulnerability", "hospital"),
        ("I can't afford the repayments", "vulnerability", "can't afford"),
        ("my husband passed away", "vulnerability", "passed away"),
        ("I'm 82 years old", "vulnerability", "I'm 82 years old"),
        ("我失業了，還不上", "vulnerability", "失業"),
        ("我不想活了", "vulnerability", "不想活了"),
        # escalation
        ("我要投诉到银保监", "escalation", "银保监"),
        ("我去金融监管局投诉", "escalation", "金融监管局"),
        ("我打12378", "escalation", "12378"),
        ("再不处理我就找媒体曝光", "escalation", "媒体"),
        ("我已经联系记者了", "escalation", "记者"),
        ("我会找律师起诉你们", "escalation", "律师"),
        ("这是我第三次打电话了", "escalation", "第三次打电话"),
        ("我已经打了五次电话", "escalation", "打了五次电话"),
        ("I will complain to the regulator", "escalation", "regulator"),
        ("I'm going to the ombudsman", "escalation", "ombudsman"),
        ("my lawyer will contact you", "escalation", "lawyer"),
        ("I've called three times already", "escalation", "called three times"),
        ("I'll go to the press", "escalation", "go to the press"),
        ("我要投訴到銀保監", "escalation", "銀保監"),
        # urgency
        ("请马上帮我冻结", "urgency", "马上"),
        ("很急", "urgency", "急"),
        ("麻烦立刻处理", "urgency", "立刻"),
        ("赶紧帮我看看", "urgency", "赶紧"),
        ("this is urgent", "urgency", "urgent"),
        ("please fix it asap", "urgency", "asap"),
        ("I need it right now", "urgency", "right now"),
        ("block my card immediately", "urgency", "immediately"),
        ("請馬上處理", "urgency", "馬上"),
        ("I need help 马上", "urgency", "马上"),
    ],
)
def test_signals(stage: RiskStage, text: str, kind: str, expected: str) -> None:
    assert expected in evidence(stage, text, kind), detect(stage, text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我没有被骗", "fraud"),
        ("我没被骗，就是想问问", "fraud"),
        ("不是诈骗吧，我只是确认一下", "fraud"),
        ("我没有把验证码给别人", "fraud"),
        ("it is not a scam", "fraud"),
        ("I wasn't scammed", "fraud"),
        ("my account was not hacked", "fraud"),
        ("我没有失业", "vulnerability"),
        ("不急", "urgency"),
        ("我不着急，慢慢来", "urgency"),
        ("不是很急", "urgency"),
        ("not urgent", "urgency"),
        ("this is not urgent at all", "urgency"),
        ("他得了急性阑尾炎", "urgency"),
        ("不用投诉", "escalation"),
    ],
)
def test_negated_or_absent(stage: RiskStage, text: str, kind: str) -> None:
    assert evidence(stage, text, kind) == [], detect(stage, text)


@pytest.mark.parametrize(
    "text",
    [
        "你好，我想查一下余额",
        "How do I change my PIN?",
        "信用卡账单什么时候出",
        "I'd like to open a savings account",
        "帮我查一下上个月的流水",
    ],
)
def test_ordinary_messages_have_no_risk(stage: RiskStage, text: str) -> None:
    assert detect(stage, text) == ()


def test_negation_does_not_cross_a_clause(stage: RiskStage) -> None:
    assert evidence(stage, "我不知道，我被骗了", "fraud") == ["被骗"]
    assert evidence(stage, "not sure, but I got scammed", "fraud") == ["scammed"]


def test_self_harm_is_never_negated(stage: RiskStage) -> None:
    assert evidence(stage, "我真的不想活了", "vulnerability") == ["不想活了"]


def test_several_types_in_one_message(stage: RiskStage) -> None:
    text = "我的卡被盗刷了三千块，我刚失业，赶紧处理，不然我投诉到银保监"
    assert sorted({r.type for r in detect(stage, text)}) == sorted(RISK_TYPES)


def test_weights_come_from_the_pack(stage: RiskStage) -> None:
    (signal,) = detect(stage, "对方让我转到安全账户")
    assert signal.weight == pytest.approx(0.95)


def test_custom_patterns_file(tmp_path: Path) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text(
        "types:\n  fraud:\n    zh:\n      - {pattern: '假冒', weight: 0.5}\n"
        "    en:\n      - {pattern: 'dodgy', weight: 0.4}\n",
        encoding="utf-8",
    )
    stage = build_stage("risk", patterns_path=path)
    stage.warm_up()
    turn = stage.run(Turn(text="a dodgy call, 假冒的"))
    assert [(r.evidence, r.weight) for r in turn.risk] == [("dodgy", 0.4), ("假冒", 0.5)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- a list\n", "types"),
        ("types:\n  anger:\n    zh: [{pattern: x}]\n", "unknown risk type"),
        ("types:\n  fraud:\n    fr: [{pattern: x}]\n", "language"),
        ("types:\n  fraud:\n    zh: [{weight: 1}]\n", "pattern"),
        ("types:\n  fraud:\n    zh: [{pattern: x, weight: 3}]\n", "weight"),
        ("types:\n  fraud:\n    zh: [{pattern: '(', weight: 1}]\n", "bad fraud/zh"),
    ],
)
def test_bad_patterns_file_fails_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        RiskDetector.from_yaml(path)


def test_missing_patterns_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        RiskDetector.from_yaml(tmp_path / "missing.yaml")


def test_pack_file_covers_every_risk_type_in_both_languages() -> None:
    detector = RiskDetector.from_yaml(DEFAULT_RISK_PATTERNS_PATH)
    covered = {(r.type, r.lang) for r in detector.rules}
    assert covered == {(t, lang) for t in RISK_TYPES for lang in ("zh", "en")}


def test_detector_without_normalised_text() -> None:
    detector = RiskDetector([RiskRule("urgency", "zh", "马上", 0.6)])
    (signal,) = detector.detect("請馬上處理")
    assert (signal.evidence, signal.start, signal.end) == ("馬上", 1, 3)


def test_stage_is_registered_and_runs_in_a_pipeline() -> None:
    assert registered_stages()["risk"] is RiskStage
    pipeline = NLUPipeline.from_config(["normalise", "language", "entities", "risk"])
    turn = pipeline.parse("有人冒充客服，我的卡被盜刷了五千塊，請馬上凍結")
    assert [r.type for r in turn.risk] == ["fraud", "fraud", "urgency"]
    assert [e.type for e in turn.entities] == ["money"]


@pytest.mark.parametrize(
    "text",
    [
        "I read the SMS code out to a caller pretending to be the police",
        "a guy called, I gave him the verification code",
        "我把短信验证码念给他了",
        "我被骗了，对方说是客服",
        "I got scammed",
        "hang on, someone just phoned saying they're from the bank and asked me for this code. I gave it to them",
        "刚才有人打电话说是银行的，问我要验证码",
        "neither of them is mine, i think my card's been cloned",
    ],
)
def test_a_code_given_away_or_a_scam_is_a_signal_strong_enough_for_the_fast_lane(
    stage: RiskStage, text: str
) -> None:
    # The fraud fast lane takes signals of at least 0.9 even where the bot would show facts first.
    signals = [s for s in detect(stage, text) if s.type == "fraud"]
    assert signals and max(s.weight for s in signals) >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "I've been thinking about ending my life",
        "honestly some days I want to end it all",
        "我真係唔想再活落去",
        "压力太大了，不想再活下去了",
        "真的撑不下去了，觉得活着也没什么意思了",
        "honestly i don't see the point in going on anymore",
    ],
)
def test_crisis_wording_in_many_forms_is_a_crisis_signal(stage: RiskStage, text: str) -> None:
    signals = [s for s in detect(stage, text) if s.type == "vulnerability"]
    assert signals and max(s.weight for s in signals) >= 1.0
