"""The persona customers' style generator: seeded, recognisably each persona, placeholders kept."""

from __future__ import annotations

import random

import pytest

from helixdesk.packs.loader import load_pack
from helixdesk.simulation.personas import PERSONAS, SimulationConfigError, parse_personas
from helixdesk.simulation.scenarios import load_simulation

SIM = load_simulation(load_pack("retail_bank"))
P = SIM.personas


def styled(persona: str, language: str, text: str, seeds: range = range(30)) -> list[str]:
    return [P[persona].style(language, random.Random(s)).request(text) for s in seeds]


def test_every_persona_is_there_with_its_patience():
    assert set(P) == set(PERSONAS)
    assert P["angry"].patience < P["busy"].patience + 1 <= P["elderly"].patience
    assert P["elderly"].min_age == 65 and P["vip"].tiers == ("vip", "platinum")


def test_the_same_seed_gives_the_same_words_and_seeds_vary_them():
    for name, persona in P.items():
        for lang in persona.languages:
            one = persona.style(lang, random.Random(7)).request("帮我查一下我的余额")
            assert one == persona.style(lang, random.Random(7)).request("帮我查一下我的余额"), name
    assert len(set(styled("chatty", "zh-Hans", "帮我查一下我的余额"))) > 3


def test_cantonese_uses_particles_and_cantonese_words():
    out = styled("cantonese", "zh-Hant", "我的卡不見了，幫我凍結")
    assert sum("嘅" in t for t in out) >= 20 and sum("唔見咗" in t for t in out) >= 20
    assert all(any(p in t for p in "呀啦㗎喎") for t in out)


def test_code_switching_mixes_english_terms_into_mandarin():
    out = styled("code_switching", "zh-Hans", "帮我查一下我的余额")
    assert sum("balance" in t or "check" in t for t in out) >= 20
    assert all("我" in t for t in out)


def test_angry_shouts_and_busy_clips():
    angry = styled("angry", "en", "what's my balance?")
    assert all(t == t.upper() and ("!" in t or t.endswith("NOW.")) for t in angry)
    assert all("！" in t for t in styled("angry", "zh-Hans", "帮我查一下我的余额"))
    busy = styled("busy", "en", "Hi, could you please check my balance and send it")
    assert all(t == t.lower() and "please" not in t and "could you" not in t for t in busy)
    # Two letters of "check" or "balance" swapped in about a quarter of the messages.
    typos = sum("check" not in t or "balance" not in t for t in busy)
    assert 1 <= typos <= 15


def test_elderly_is_polite_and_long_winded():
    out = styled("elderly", "zh-Hans", "帮我查一下我的余额")
    assert all(len(t) > len("帮我查一下我的余额") + 6 for t in out)
    assert all(any(w in t for w in ("您", "谢谢", "麻烦", "打扰", "问问")) for t in out)


@pytest.mark.parametrize("persona", PERSONAS)
def test_placeholders_are_kept_for_the_bank_values(persona):
    lang = P[persona].languages[0]
    for t in styled(persona, lang, "就是{txn.amount}那笔，{txn.merchant_zh}的", range(10)):
        assert "{txn.amount}" in t and "{txn.merchant_zh}" in t


def test_answers_to_the_bots_questions():
    style = P["elderly"].style("en", random.Random(1))
    assert "123456" in style.code("123456") and "2" in style.pick(2) and style.agree()
    assert P["busy"].style("en", random.Random(1)).closing() is None  # a busy customer just leaves


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"personas": {"robot": {}}}, "not one of"),
        ({"personas": {"busy": {"languages": ["fr"], "patience": 3, "style": {}}}}, "languages"),
        ({"personas": {"busy": {"languages": ["en"], "patience": 0, "style": {}}}}, "patience"),
        (
            {"personas": {"busy": {"languages": ["en"], "patience": 3, "style": {"en": {"agree": ["y"]}}}}},
            "pick",
        ),
        (
            {"personas": {"busy": {"languages": ["en"], "patience": 3, "style": {"en": {"shout": 1}}}}},
            "unknown keys",
        ),
    ],
)
def test_a_bad_persona_file_is_refused_with_where(raw, words):
    with pytest.raises(SimulationConfigError) as e:
        parse_personas(raw)
    assert e.value.code == "simulation_config_invalid" and words in e.value.detail
