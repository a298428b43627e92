"""The demo month feeds the analytics dashboards: its handoffs are real handoffs (queued, claimed by
demo staff, ended, with their events), and the `analytics` consumer builds figures that look like a
contact centre's from them; the same seed writes the same month."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from helixdesk.analytics.evaluation import Change, choices, evaluate
from helixdesk.analytics.metrics import CostModel
from helixdesk.analytics.query import Analytics, Days, Filters
from helixdesk.auth.models import StaffUser
from helixdesk.core.clock import utcnow
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.handoff.models import Handoff
from helixdesk.insight.demo import generate
from tests.analytics_data import TZ, consume

pytestmark = pytest.mark.slow


def _month(url: str, settings_for: Any) -> tuple[dict[str, Any], list[tuple[Any, ...]], dict[str, Any]]:
    generate(settings_for(url), days=14, per_day=40, seed=11, staff_password="demo-month-pw")
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        assert consume(sessions) > 0
        today = utcnow().astimezone(TZ).date()
        days = Days(today.fromordinal(today.toordinal() - 15), today)
        with reading(sessions) as s:
            summary = Analytics(tz=TZ, cost=CostModel()).summary(s, days, Filters())
            handoffs = s.execute(
                select(
                    Handoff.queue,
                    Handoff.reason,
                    Handoff.status,
                    Handoff.sla_seconds,
                    StaffUser.username,
                    Handoff.created_at,
                    Handoff.claimed_at,
                    Handoff.closed_at,
                    Handoff.resolution,
                )
                .outerjoin(StaffUser, StaffUser.id == Handoff.agent_id)
                .order_by(Handoff.created_at, Handoff.queue)
            ).all()
            assert s.scalar(select(func.count()).select_from(StaffUser)) >= 9
            # The bot's answers cite their FAQ entry: the most cited can be evaluated.
            cited = choices(s, days, Filters(), language="en")["knowledge"]
            effect = (
                evaluate(s, Change.parse(f"knowledge:{cited[0]['key']}"), days, Filters()) if cited else {}
            )
        return summary, [tuple(h) for h in handoffs], {"cited": cited, "effect": effect}
    finally:
        engine.dispose()


def test_the_demo_month_feeds_the_dashboards(sqlite_url, tmp_path, settings_for) -> None:
    summary, handoffs, evaluation = _month(sqlite_url, settings_for)
    values = {m["key"]: m["value"] for m in summary["metrics"]}
    # A contact centre's figures: most requests settled by the bot, most handoffs answered within
    # the queue's target, customers mostly content.
    assert 0.6 <= values["containment"] <= 0.85, values
    assert 0.8 <= values["sla_compliance"] <= 0.98, values
    assert 3.6 <= values["csat"] <= 4.4, values
    assert 0.7 <= values["fcr"] <= 0.98, values  # no demo bank here: no customer comes back
    assert 0 < values["abandonment"] <= 0.12, values
    assert values["transfers"] >= 1 and values["aht"] > 60, values
    # The demo staff's shifts (online 08:00-22:00 but lunch): people busy part of their time.
    assert 0.01 <= values["occupancy"] <= 0.9, values
    queues = {b["key"] for b in summary["breakdowns"]["queues"]}
    assert {"general", "fraud", "senior"} <= queues
    assert len(summary["breakdowns"]["agents"]) >= 4
    # Fraud reports go to the fraud queue, to the fraud specialist; transfers go to a senior agent.
    assert all(h[4] in (None, "fraud.zhao") for h in handoffs if h[0] == "fraud")
    assert any(h[1] == "transfer" and h[4] == "senior.wang" for h in handoffs)
    # Every handoff carries its queue's target; a claimed one its agent and times in order.
    targets = {"fraud": 60, "senior": 120, "relationship_manager": 180, "general": 180}
    assert all(h[3] == targets[h[0]] for h in handoffs)
    assert all(h[5] <= h[6] <= h[7] for h in handoffs if h[6] is not None)
    # The answers cite the pack's FAQ entries; the most cited touched that many conversations, and
    # the same requests handed to a person are there to compare with.
    cited = evaluation["cited"]
    assert len(cited) >= 10 and cited[0]["count"] >= 10, cited[:3]
    assert evaluation["effect"]["touched"] == cited[0]["count"]
    assert evaluation["effect"]["left_out"] < evaluation["effect"]["touched"]

    # The same seed writes the same month (the ids and the times relative to now aside).
    url = f"sqlite:///{tmp_path / 'again.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    again, handoffs_again, _ = _month(url, settings_for)
    # (Occupancy's online time runs up to now, so it moves with the clock.)
    assert [(m["key"], m["value"]) for m in again["metrics"] if m["key"] != "occupancy"] == [
        (m["key"], m["value"]) for m in summary["metrics"] if m["key"] != "occupancy"
    ]
    assert [(*h[:5], h[8]) for h in handoffs_again] == [(*h[:5], h[8]) for h in handoffs]
