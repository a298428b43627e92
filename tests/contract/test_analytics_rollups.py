"""Analytics on SQLite and PostgreSQL: the rollups the consumer keeps equal the figures computed by
hand for the fixture (tests/analytics_data.py), and equal a full rebuild from the source tables."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helixdesk.analytics.feed import rebuild
from helixdesk.analytics.metrics import CostModel
from helixdesk.analytics.models import AnalyticsCell, AnalyticsCount, AnalyticsFact
from helixdesk.analytics.query import Analytics, Days, Filters
from helixdesk.core.errors import ValidationFailedError
from helixdesk.db.session import reading
from tests.analytics_data import (
    EXPECTED,
    EXPECTED_BREAKDOWNS,
    EXPECTED_DRILL,
    EXPECTED_EN,
    EXPECTED_SERIES,
    FIRST,
    LAST,
    TZ,
    consume,
    seed,
)

DAYS = Days(FIRST, LAST)
ANALYTICS = Analytics(tz=TZ, cost=CostModel(agent_per_hour=90, bot_per_conversation=0.6, baseline_minutes=6))


def _summary(sessions, filters: Filters | None = None) -> dict:
    with reading(sessions) as s:
        return ANALYTICS.summary(s, DAYS, filters or Filters())


def _values(summary: dict) -> dict:
    return {m["key"]: m["value"] for m in summary["metrics"]}


def _rollups(sessions) -> tuple[list, list]:
    with reading(sessions) as s:
        cells = [
            tuple(
                round(v, 6) if isinstance(v, float) else v
                for v in (getattr(c, col.name) for col in AnalyticsCell.__table__.columns)
            )
            for c in s.scalars(select(AnalyticsCell))
        ]
        counts = [
            tuple(getattr(c, col.name) for col in AnalyticsCount.__table__.columns)
            for c in s.scalars(select(AnalyticsCount))
        ]
    return sorted(cells), sorted(counts)


def _ids(result: dict, names: dict[str, str]) -> set[str]:
    back = {v: k for k, v in names.items()}
    return {back[c["id"]] for c in result["conversations"]}


def test_the_rollups_equal_the_hand_computed_figures_and_a_rebuild(sessions):
    # The first six conversations, consumed; then customer A comes back (c5), which changes c1's
    # first-contact resolution, consumed as a difference.
    names = seed(sessions, only=("c1", "c2", "c3", "c4", "c6", "c7"))
    assert consume(sessions) > 0
    before = _values(_summary(sessions))
    assert before["volume"] == 6 and before["fcr"] == pytest.approx(3 / 5)  # c1 resolved, for now
    names |= seed(sessions, only=("c5",))
    consume(sessions)

    summary = _summary(sessions)
    values = _values(summary)
    for key, expected in EXPECTED.items():
        assert values[key] == pytest.approx(expected, abs=1e-4), key
    for name, expected in EXPECTED_BREAKDOWNS.items():
        assert {b["key"]: b["count"] for b in summary["breakdowns"][name]} == expected, name
    agents = {a["label"]: a for a in summary["breakdowns"]["agents"]}
    assert set(agents) == {"李娜", "王芳"}  # agent.li (c2) and senior.wang (c3, who handled it last)
    assert agents["王芳"]["emotional_load"] == pytest.approx(1.3)
    assert agents["李娜"]["online_seconds"] == 7200 and agents["李娜"]["occupancy"] == pytest.approx(
        300 / 7200, abs=1e-4
    )
    assert agents["王芳"]["online_seconds"] == 0 and agents["王芳"]["occupancy"] is None
    assert agents["李娜"]["aht_seconds"] == pytest.approx(300) and agents["李娜"]["csat"] == pytest.approx(2)
    for key, expected in EXPECTED_SERIES.items():
        assert summary["series"][key] == [pytest.approx(v) if v is not None else None for v in expected], key
    english = _values(_summary(sessions, Filters(language="en")))
    for key, expected in EXPECTED_EN.items():
        assert english[key] == pytest.approx(expected), key
    with reading(sessions) as s:
        for (metric, outcome), expected in EXPECTED_DRILL.items():
            found = ANALYTICS.conversations(s, DAYS, Filters(), metric=metric, outcome=outcome)
            assert _ids(found, names) == expected and found["total"] == len(expected), (metric, outcome)
        angry = ANALYTICS.conversations(s, DAYS, Filters(), metric="emotions", key="anger")
        assert _ids(angry, names) == {"c2"}

    incremental = _rollups(sessions)
    with reading(sessions) as s:
        facts = sorted((f.conversation_id, f.resolved, f.sla_met) for f in s.scalars(select(AnalyticsFact)))
    done = rebuild(sessions, tz=TZ)
    assert done.conversations == 7
    assert _rollups(sessions) == incremental
    with reading(sessions) as s:
        assert (
            sorted((f.conversation_id, f.resolved, f.sla_met) for f in s.scalars(select(AnalyticsFact)))
            == facts
        )
    assert _values(_summary(sessions)) == values
    # Consuming again after the rebuild (the offset is where the rebuild began) changes nothing.
    consume(sessions)
    assert _rollups(sessions) == incremental


def test_bad_queries_get_stable_codes(sessions):
    with reading(sessions) as s:
        for kwargs, code in (
            ({"metric": "nope"}, "invalid_metric"),
            ({"metric": "volume", "outcome": "no"}, "invalid_outcome"),
            ({"metric": "emotions"}, "invalid_key"),
            ({"metric": "volume", "day": "yesterday"}, "invalid_day"),
        ):
            with pytest.raises(ValidationFailedError) as e:
                ANALYTICS.conversations(s, DAYS, Filters(), **kwargs)
            assert e.value.code == code
