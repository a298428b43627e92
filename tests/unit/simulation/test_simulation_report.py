"""A run's figures: the satisfaction proxy from the persona's patience, the handoff verdicts, the
percentiles, the gate that passes or fails, and the outbox codes the simulated customers read."""

from __future__ import annotations

import random

from helixdesk.packs.loader import load_pack
from helixdesk.simulation.plan import Planned
from helixdesk.simulation.report import Figures, build_report, judge_gate, percentile, satisfaction
from helixdesk.simulation.runner import Outcome, TurnLog, _verdict, outbox_codes
from helixdesk.simulation.scenarios import Gate, load_simulation

SIM = load_simulation(load_pack("retail_bank"))


def outcome(**kw) -> Outcome:  # type: ignore[no-untyped-def]
    base = {
        "number": 1,
        "scenario": "check-balance",
        "persona": "busy",
        "language": "en",
        "customer_ref": "C1",
        "patience": 4,
    }
    o = Outcome(**{**base, **{k: v for k, v in kw.items() if k in base}})
    for k, v in kw.items():
        if k not in base:
            setattr(o, k, v)
    if not o.turns:
        o.turns = [TurnLog("hi", 200, 10.0 * (i + 1)) for i in range(kw.get("n", 2))]
    return o


def planned(scenario: str, persona: str) -> Planned:
    sc = next(s for s in SIM.scenarios if s.id == scenario)
    return Planned(1, sc, SIM.personas[persona], "en", random.Random(1).randrange(10))


def test_satisfaction_falls_with_messages_repeats_waits_and_missed_goals():
    quick = outcome(completed=True, turns_to_goal=1, n=1)
    assert satisfaction(quick) == 5.0
    slower = outcome(completed=True, turns_to_goal=3, n=3)
    assert satisfaction(slower) == 1 + 4 * (1 - 0.5 * 2 / 4)
    repeated = outcome(completed=True, turns_to_goal=3, n=3, repeats=2)
    assert satisfaction(repeated) < satisfaction(slower)
    wanted = outcome(completed=True, turns_to_goal=1, n=1, handoff={"queue": "fraud"}, verdict="expected")
    unwanted = outcome(completed=False, n=1, handoff={"queue": "general"}, verdict="fallback")
    assert satisfaction(unwanted) < satisfaction(wanted) < satisfaction(quick)
    assert satisfaction(outcome(gave_up=True, n=4)) == 1.0


def test_a_handoff_is_expected_explained_a_fallback_or_wrong():
    fraud = {"queue": "fraud", "trigger": "fraud_risk", "intent": "card_fraud_report"}
    assert _verdict(fraud, planned("scam-report", "scam_victim")) == ("expected", False)
    assert _verdict(None, planned("scam-report", "scam_victim")) == (None, True)  # missed
    angry = {"queue": "general", "trigger": "emotion_rising", "intent": "balance_inquiry"}
    assert _verdict(angry, planned("check-balance", "angry")) == ("explained", False)
    assert _verdict(angry, planned("check-balance", "busy")) == ("wrong", False)
    gave_up = {"queue": "general", "trigger": "bot_failed", "intent": None}
    assert _verdict(gave_up, planned("check-balance", "busy")) == ("fallback", False)
    assert _verdict(fraud, planned("check-balance", "busy")) == ("wrong", False)
    assert _verdict(None, planned("check-balance", "busy")) == (None, False)


def test_figures_and_the_gate():
    done = outcome(completed=True, turns_to_goal=2, n=2)
    wrong = outcome(completed=False, n=1, handoff={"queue": "fraud"}, verdict="wrong")
    invented = outcome(
        completed=True, turns_to_goal=1, n=1, invented=[{"turn": 1, "number": "35.00", "reply": "…"}]
    )
    figures = Figures.of([done, wrong, invented])
    assert figures.conversations == 3 and figures.completed == 2 and figures.completion_rate == 0.667
    assert figures.wrong_handoffs == 1 and figures.invented_numbers == 1 and figures.handoffs_correct == 0
    assert figures.turns_to_goal == 1.5
    checks = {c.name: c for c in judge_gate(Gate(completion_rate=0.6), figures)}
    assert checks["completion_rate"].passed and not checks["wrong_handoffs"].passed
    assert not checks["invented_numbers"].passed and checks["server_errors"].passed
    assert all(c.passed for c in judge_gate(Gate(0.6, 1, 0, 1, 0), figures))
    report = build_report([done, wrong, invented], Gate(), {"seed": 1})
    assert report["gate"]["passed"] is False and set(report["by_persona"]) == {"busy"}
    assert report["conversations"][1]["handoff_verdict"] == "wrong"


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 95) == 95.0
    assert percentile([], 50) is None and percentile([7.0], 95) == 7.0


def test_the_codes_on_the_demo_outbox_page_newest_first():
    page = (
        '<tr><td class="body">您的验证码为 482913，5分钟内有效。</td></tr>'
        '<tr><td class="body">Your code is 110245. Do not share it.</td></tr>'
        '<tr><td class="body">尾号6621的卡已冻结</td></tr>'
    )
    assert outbox_codes(page) == ["482913", "110245"]
