"""The practice customers of training mode: a need met calms them, a message that breaks a QA rule
makes them worse, every need met satisfies them, patience runs out; seeded and in three languages."""

from __future__ import annotations

import random

import pytest

from helixdesk.packs.loader import load_pack
from helixdesk.simulation.training import CallerState, load_practice_customers, opening, respond

CUSTOMERS = load_practice_customers(load_pack("retail_bank"))
ANGRY, SCAM = CUSTOMERS["angry"], CUSTOMERS["scam_victim"]


def answer(customer, language, state, text, broke=False, seed=1):  # type: ignore[no-untyped-def]
    return respond(customer, language, state, text, broke_rules=broke, rng=random.Random(seed))


def test_the_practice_customers_and_their_situations():
    assert set(CUSTOMERS) == {"angry", "scam_victim"}
    assert ANGRY.persona.name == "angry" and SCAM.persona.name == "scam_victim"
    for c in CUSTOMERS.values():
        assert set(c.situation) == {"zh-Hans", "zh-Hant", "en"} and c.needs and c.patience > 1


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_an_angry_opening_is_heated_and_seeded(language):
    one = opening(ANGRY, language, random.Random(4))
    assert one == opening(ANGRY, language, random.Random(4))
    assert "368" in one and ("！" in one or one == one.upper())


def test_an_apology_calms_and_the_next_missing_need_is_asked():
    state = CallerState(ANGRY.mood)
    r = answer(ANGRY, "zh-Hans", state, "非常抱歉给您添麻烦了")
    assert r.outcome == "better" and r.met == ("apology",) and r.state.mood < state.mood
    assert any(a in r.text for a in ANGRY.needs[1].ask["zh-Hans"])  # asks what will be done
    assert state.met == [] and state.turns == 0  # the state given is not changed


def test_traditional_chinese_meets_the_same_needs():
    r = answer(SCAM, "zh-Hant", CallerState(SCAM.mood), "唔使驚，我而家即刻幫您凍結張卡")
    assert set(r.met) == {"calm", "protect"}


def test_a_message_that_breaks_a_rule_makes_it_worse_in_the_personas_style():
    r = answer(ANGRY, "en", CallerState(0.7), "calm down, it's not my department", broke=True)
    assert r.outcome == "worse" and r.state.mood == pytest.approx(0.9)
    assert r.text == r.text.upper()  # heated: the angry persona shouts


def test_every_need_met_satisfies_and_a_calm_customer_writes_plainly():
    state = CallerState(0.45, met=["apology", "fix"], turns=2)
    r = answer(ANGRY, "en", state, "It will be back on your card within 3 business days.")
    assert r.outcome == "satisfied" and r.ends and r.text in ANGRY.replies["satisfied"]["en"]


def test_patience_runs_out():
    state = CallerState(0.9, turns=ANGRY.patience - 1)
    r = answer(ANGRY, "zh-Hans", state, "嗯")
    assert r.outcome == "leaves" and r.ends and r.state.turns == ANGRY.patience


def test_nothing_useful_repeats_the_need_and_raises_the_mood():
    r = answer(SCAM, "en", CallerState(0.5), "Let me see.")
    assert r.outcome == "same" and r.met == () and r.state.mood == pytest.approx(0.55)
    assert any(a in r.text for a in SCAM.needs[0].ask["en"])
