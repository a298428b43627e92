"""The drift measures, pure: the divergence, what chance gives, each measure's rule, and what one
stored customer message adds to the figures."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from helixdesk.core.settings import Settings
from helixdesk.core.timezones import zone
from helixdesk.drift.feed import Increments, best_confidence, understood
from helixdesk.drift.measures import Baseline, Figures, Thresholds, chance_divergence, jensen_shannon, judge
from helixdesk.drift.vocabulary import tokens

TZ = zone("Asia/Shanghai")


def figures(
    n: int, *, oos: float, confidence: float, spread: float, intents: dict[str, int], tokens: int
) -> Figures:
    """`n` messages with this out-of-scope share and mean confidence (standard deviation `spread`)."""
    return Figures(
        messages=n,
        oos=round(n * oos),
        scored=n,
        confidence_sum=n * confidence,
        confidence_squares=n * (spread**2 + confidence**2),
        tokens=tokens,
        intents={**intents, "out_of_scope": round(n * oos)},
    )


MIX = {f"intent_{i}": 10 + i for i in range(20)}  # 390 in-scope messages a day


def reference(days: int = 28) -> Baseline:
    return Baseline(
        "window",
        figures(
            days * 420,
            oos=0.07,
            confidence=0.95,
            spread=0.08,
            intents={k: v * days for k, v in MIX.items()},
            tokens=days * 4000,
        ),
        new_tokens=days * 80,  # 2% of a day's words are its own
    )


def test_the_divergence_is_zero_for_the_same_mix_one_for_disjoint_ones_and_symmetric():
    assert jensen_shannon({"a": 3, "b": 1}, {"a": 30, "b": 10}) == pytest.approx(0.0)
    assert jensen_shannon({"a": 1}, {"b": 1}) == pytest.approx(1.0)
    # One intent against an even split of it and another: 1.5 - 0.75 log2(3) bits.
    assert jensen_shannon({"a": 1}, {"a": 1, "b": 1}) == pytest.approx(1.5 - 0.75 * math.log2(3))
    p, q = {"a": 5, "b": 2, "c": 1}, {"a": 1, "b": 2, "d": 4}
    assert jensen_shannon(p, q) == pytest.approx(jensen_shannon(q, p))
    assert jensen_shannon({}, q) == 0.0


def test_what_chance_gives_falls_with_volume_and_is_the_same_for_the_same_seed():
    mix = {k: float(v) for k, v in MIX.items()}
    small = chance_divergence(mix, 50, 5000, seed=1)
    large = chance_divergence(mix, 5000, 50000, seed=1)
    assert small > 4 * large > 0
    assert chance_divergence(mix, 50, 5000, seed=1) == small
    assert chance_divergence({}, 50, 50, seed=1) == 0.0


def test_an_ordinary_day_is_within_every_threshold():
    day = figures(420, oos=0.075, confidence=0.945, spread=0.08, intents=MIX, tokens=4000)
    measures = judge(day, Counter({"闪退": 60, "新版": 30}), reference(), Thresholds(), seed=3)
    assert [m.name for m in measures] == ["intent_shift", "confidence", "oos_rate", "new_vocabulary"]
    assert all(m.judged for m in measures)
    assert not any(m.beyond for m in measures), [m.to_dict() for m in measures]
    vocabulary = measures[3]
    assert vocabulary.value == pytest.approx(90 / 4000) and vocabulary.reference == pytest.approx(0.02)


def test_a_shifted_day_is_beyond_every_threshold_and_says_what_stood_out():
    shifted = {**MIX, "app_issue": 260}  # a new topic read as one intent
    day = figures(700, oos=0.3, confidence=0.78, spread=0.2, intents=shifted, tokens=6000)
    new = Counter({"数字人民币": 400, "硬钱包": 150, "碰一碰": 80})
    measures = {m.name: m for m in judge(day, new, reference(), Thresholds(), seed=3)}
    assert all(m.beyond for m in measures.values()), {k: m.to_dict() for k, m in measures.items()}
    shift = measures["intent_shift"]
    assert shift.value is not None and shift.chance is not None and shift.value > shift.chance
    assert (
        shift.detail[0]["intent"] == "app_issue" and shift.detail[0]["share"] > shift.detail[0]["reference"]
    )
    assert measures["confidence"].change == pytest.approx(0.78 - 0.95)
    assert measures["oos_rate"].change == pytest.approx(210 / 700 - (reference().figures.oos_rate or 0))
    assert [d["token"] for d in measures["new_vocabulary"].detail] == ["数字人民币", "硬钱包", "碰一碰"]


def test_only_the_harmful_direction_raises_an_alarm():
    day = figures(420, oos=0.0, confidence=0.999, spread=0.01, intents=MIX, tokens=4000)
    measures = {m.name: m for m in judge(day, Counter(), reference(), Thresholds(), seed=3)}
    assert measures["confidence"].change == pytest.approx(0.049)
    assert measures["oos_rate"].change == pytest.approx(-(reference().figures.oos_rate or 0))
    assert not any(m.beyond for m in measures.values())


def test_a_change_beyond_the_threshold_but_within_chance_is_not_an_alarm():
    """Thirty messages: an out-of-scope share of 17% against 7% is past the threshold, but three
    such messages more than expected are no evidence of drift."""
    day = figures(30, oos=5 / 30, confidence=0.9, spread=0.1, intents={"intent_1": 25}, tokens=300)
    measures = {m.name: m for m in judge(day, Counter({"x1": 10}), reference(), Thresholds(), seed=3)}
    assert measures["oos_rate"].judged and measures["oos_rate"].change > Thresholds().oos_rise
    assert not measures["oos_rate"].beyond


def test_a_quiet_day_and_a_day_without_reference_are_not_judged():
    quiet = figures(12, oos=0.5, confidence=0.5, spread=0.2, intents={"x": 6}, tokens=100)
    measures = judge(quiet, Counter({"新": 50}), reference(), Thresholds(), seed=3)
    assert not any(m.judged or m.beyond for m in measures)
    assert {m.why for m in measures} == {"too_few_messages"}
    busy = figures(400, oos=0.5, confidence=0.5, spread=0.2, intents={"x": 200}, tokens=4000)
    assert {m.why for m in judge(busy, Counter(), None, Thresholds(), seed=3)} == {"no_reference"}


def test_the_training_reference_judges_everything_but_the_mix_of_intents():
    training = Baseline("training", reference().figures, reference().new_tokens)
    day = figures(420, oos=0.3, confidence=0.7, spread=0.2, intents={"intent_1": 300}, tokens=4000)
    measures = {m.name: m for m in judge(day, Counter(), training, Thresholds(), seed=3)}
    assert not measures["intent_shift"].judged and measures["intent_shift"].why == "no_reference"
    assert measures["confidence"].beyond and measures["oos_rate"].beyond


def test_thresholds_come_from_the_settings():
    settings = Settings(_env_file=None, drift_min_messages=200, drift_intent_jsd=0.2, drift_oos_rise=0.1)
    th = Thresholds.from_settings(settings)
    assert (th.min_messages, th.intent_jsd, th.oos_rise) == (200, 0.2, 0.1)
    assert Thresholds() == Thresholds.from_settings(Settings(_env_file=None))


@pytest.mark.parametrize(
    "values",
    [
        {"drift_reference_start": date(2026, 11, 1)},
        {"drift_reference_start": date(2026, 11, 9), "drift_reference_end": date(2026, 11, 1)},
        {"drift_intent_jsd": 0},
        {"drift_reference_days": 3},
        {"drift_min_messages": 5},
    ],
)
def test_bad_drift_settings_are_refused(values):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **values)


def test_a_message_adds_its_day_language_intent_confidence_and_words():
    meta = {
        "nlu": {
            "language": "zh-Hant",
            "intent": {"name": "out_of_scope", "confidence": 0.7},
            "intent_ranking": [{"name": "app_issue", "confidence": 0.3}],
        }
    }
    at = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 01:30 the next day in Shanghai
    u = understood("手機銀行更新後閃退 138****5678", meta, at, "zh-Hans", TZ)
    assert u is not None
    assert (u.day, u.language, u.intent, u.confidence) == (date(2026, 12, 1), "zh-Hant", "out_of_scope", 0.3)
    assert "闪退" in u.tokens and not any(ch.isdigit() for t in u.tokens for ch in t)
    mixed = understood(
        "hi 你好", {"nlu": {"language": "mixed", "intent": {"name": "greeting"}}}, at, "en", TZ
    )
    assert mixed is not None and mixed.language == "en" and mixed.confidence is None
    assert understood("", {"kind": "image"}, at, "en", TZ) is None
    secret = understood("••••••", {"redacted": "one_time_code", "nlu": meta["nlu"]}, at, None, TZ)
    assert secret is not None and secret.tokens == () and secret.language == "zh-Hant"
    added = Increments.of([u, mixed, secret])
    assert added.sums[(date(2026, 12, 1), "zh-Hant")].messages == 2
    assert added.sums[(date(2026, 12, 1), "zh-Hant")].oos == 2
    assert added.intents[(date(2026, 12, 1), "en")] == Counter({"greeting": 1})


def test_the_best_confidence_is_the_top_of_the_ranking():
    assert best_confidence({"intent": {"name": "balance_inquiry", "confidence": 0.9}}) == 0.9
    assert best_confidence({"intent": {"name": "out_of_scope", "confidence": 0.8}}) is None
    assert (
        best_confidence({"intent": {"name": "x"}, "intent_ranking": [{"name": "x", "confidence": 0.6}]})
        == 0.6
    )


def test_words_are_the_nlu_tokens_without_numbers_masks_or_single_letters():
    assert tokens("My card **** **** **** 6621 was charged 500 USD twice") == [
        "my",
        "card",
        "was",
        "charged",
        "usd",
        "twice",
    ]
    assert tokens("手機銀行") == tokens("手机银行")  # one word in either script
    assert tokens("   ") == []
