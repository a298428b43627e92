"""Service-effect evaluation on SQLite and PostgreSQL over the effect fixture (tests/effect_data.py):
what can be evaluated in a period, each choice touching as many conversations as the evaluation
then counts; the evaluation equals the figures computed from the fixture's rows, with a verdict per
outcome; a knowledge entry is titled by the knowledge base in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helixdesk.analytics.evaluation import Change, choices, evaluate
from helixdesk.analytics.query import Days, Filters
from helixdesk.db.session import reading, transaction
from helixdesk.knowledge.models import KbChunk, KbDocument
from helixdesk.lifecycle.config import ChurnRules
from tests.analytics_data import consume
from tests.effect_data import ENTRY, FIRST, LAST, ROWS, SECTION, expected_effect, seed_effect

DAYS = Days(FIRST, LAST)


@pytest.fixture
def effect_db(sessions):
    names = seed_effect(sessions)
    consume(sessions)
    return sessions, names


def _choices(sessions, filters: Filters | None = None, language: str = "en") -> dict:
    with reading(sessions) as s:
        return choices(s, DAYS, filters or Filters(), language=language)


def _evaluate(sessions, change: str, filters: Filters | None = None) -> dict:
    with reading(sessions) as s:
        return evaluate(s, Change.parse(change), DAYS, filters or Filters(), churn=ChurnRules())


def test_the_choices_of_a_period_and_what_each_touched(effect_db):
    sessions, _ = effect_db
    got = _choices(sessions)
    cited = {ref: sum(1 for r in ROWS if ref in r.cites) for r in ROWS for ref in r.cites}
    assert [(c["key"], c["count"]) for c in got["knowledge"]] == sorted(
        cited.items(), key=lambda kv: (-kv[1], kv[0])
    )
    assert [(c["key"], c["count"]) for c in got["knowledge"]] == [
        (ENTRY, 5),
        ("balance-check-app", 3),
        (SECTION, 1),
    ]
    assert [(c["key"], c["count"]) for c in got["queues"]] == [("general", 5), ("fraud", 1)]
    assert [(c["key"], c["count"]) for c in got["reasons"]] == [("bot_failed", 5), ("fraud_risk", 1)]
    # With no knowledge base, an entry is named by its reference.
    assert got["knowledge"][0]["label"] == ENTRY
    # Every choice touches the conversations it counts, a reference that is not ASCII too.
    for kind, listed in (
        ("knowledge", got["knowledge"]),
        ("queue", got["queues"]),
        ("reason", got["reasons"]),
    ):
        for choice in listed:
            assert _evaluate(sessions, f"{kind}:{choice['key']}")["touched"] == choice["count"], choice


def test_the_choices_follow_the_filters(effect_db):
    sessions, _ = effect_db
    got = _choices(sessions, Filters(language="en"))
    assert [(c["key"], c["count"]) for c in got["knowledge"]] == [(ENTRY, 1)]
    assert [(c["key"], c["count"]) for c in got["queues"]] == [("fraud", 1)]
    assert [(c["key"], c["count"]) for c in got["reasons"]] == [("fraud_risk", 1)]
    assert _evaluate(sessions, f"knowledge:{ENTRY}", Filters(language="en"))["touched"] == 1
    nothing = _choices(sessions, Filters(channel="app"))
    assert nothing == {"knowledge": [], "queues": [], "reasons": []}


def test_the_effect_of_an_entry_equals_the_fixture_computed_by_hand(effect_db):
    sessions, _ = effect_db
    result = _evaluate(sessions, f"knowledge:{ENTRY}")
    touched = {r.name for r in ROWS if ENTRY in r.cites}
    assert result["touched"] == len(touched) == 5
    assert result["left_out"] == 1  # t5: no untouched card-activation question in English
    expected = expected_effect(touched)
    got = {o["key"]: o for o in result["outcomes"]}
    for key, figures in expected.items():
        for name, value in figures.items():
            assert got[key][name] == pytest.approx(value, abs=1e-4), (key, name)
    assert got["csat"]["left_out"] == 1 and got["fcr"]["left_out"] == 1
    # CSAT: 4.5 against 3.0, the interval clear of zero; the other two cross it.
    assert got["csat"]["ci_low"] > 0
    assert {k: o["verdict"] for k, o in got.items()} == {
        "csat": "better",
        "repeat_contact": "no_clear_effect",
        "fcr": "no_clear_effect",
        # 3 of 4 touched stayed against 3 of 5 comparable: within the noise.
        "retention": "no_clear_effect",
    }
    assert got["retention"]["touched_mean"] == pytest.approx(0.75)
    assert got["retention"]["comparable_mean"] == pytest.approx(0.6)
    assert result["retention_observed_through"] == "2026-11"


def test_the_queue_of_the_handed_over_against_the_answered(effect_db):
    sessions, _ = effect_db
    result = _evaluate(sessions, "queue:general")
    expected = expected_effect({r.name for r in ROWS if r.queue == "general"})
    got = {o["key"]: o for o in result["outcomes"]}
    assert got["csat"]["difference"] == pytest.approx(expected["csat"]["difference"], abs=1e-4)
    assert got["csat"]["verdict"] == "worse"  # 3.0 against 4.5, higher is better
    assert result["left_out"] == 0


def test_an_entry_is_titled_in_the_readers_language(effect_db):
    sessions, _ = effect_db
    with transaction(sessions) as s:
        doc = KbDocument(
            source="pack:retail_bank/kb/faq.yaml",
            title="FAQ",
            kind="faq",
            language="mul",
            sha256="0" * 64,
            ingested_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        s.add(doc)
        s.flush()
        s.add(
            KbChunk(
                document_id=doc.id,
                order=0,
                faq_id=ENTRY,
                language="mul",
                heading="How do I activate my card?",
                text="",
                questions={
                    "zh-Hans": "信用卡怎么激活？",
                    "en": "How do I activate my card?",
                    "alternatives": {"en": ["card activation"]},
                },
                embedding=b"",
                embedding_kinds="",
            )
        )
    labels = {c["key"]: c["label"] for c in _choices(sessions, language="zh-Hans")["knowledge"]}
    assert labels == {ENTRY: "信用卡怎么激活？", "balance-check-app": "balance-check-app", SECTION: SECTION}
    labels = {c["key"]: c["label"] for c in _choices(sessions, language="zh-Hant")["knowledge"]}
    assert labels[ENTRY] == "信用卡怎么激活？"  # no zh-Hant question: the first one stored
