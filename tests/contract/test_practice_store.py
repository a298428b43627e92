"""Practice conversations stored on SQLite and PostgreSQL: the transcript and state as JSON, the
score at the end, the version that refuses a change made meanwhile, the agent's own history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helixdesk.auth.service import StaffAccounts
from helixdesk.packs.loader import load_pack
from helixdesk.quality.rules import RuleBook
from helixdesk.simulation.practice import TrainingChangedError, TrainingEndedError, TrainingRoom
from helixdesk.simulation.training import load_practice_customers

PACK = load_pack("retail_bank")


def emotion(text: str) -> dict[str, object]:
    """A stand-in for the NLU's reading: anger while the customer shouts."""
    return {"label": "anger", "intensity": 0.9 if "！" in text or text.isupper() else 0.3}


@pytest.fixture
def room(sessions):
    ticks = iter(datetime(2026, 12, 5, 9, 0, tzinfo=UTC) + timedelta(seconds=i) for i in range(1000))
    return TrainingRoom(
        sessions=sessions,
        customers=load_practice_customers(PACK),
        book=RuleBook.load(PACK),
        clock=lambda: next(ticks),
    )


@pytest.fixture
def agents(sessions):
    staff = StaffAccounts(sessions=sessions)
    return [
        staff.create_user(
            username=n, password="correct horse battery staple", display_name=n, roles=["agent"]
        ).id
        for n in ("agent.p", "agent.q")
    ]


def test_a_practice_is_stored_scored_and_listed(room, agents):
    mine, other = agents
    started = room.start(mine, "angry", "zh-Hant", emotion=emotion, seed=11)
    assert started == room.get(mine, started["id"])
    view = room.send(mine, started["id"], "唔好意思，我即刻幫你核實同申請退款", emotion=emotion)
    assert view["turns"] == 1 and view["transcript"][1] == {
        "sender": "agent",
        "text": "唔好意思，我即刻幫你核實同申請退款",
        "at": "2026-12-05T09:00:01+00:00",
        "emotion": None,
        "outcome": None,
    }
    assert set(view["needs_met"]) == {"apology", "fix"}
    ended = room.end(mine, started["id"])
    assert ended["status"] == "ended" and ended["outcome"] == "stopped" and ended["score"] is not None
    assert ended["ended_at"] == "2026-12-05T09:00:02+00:00"
    with pytest.raises(TrainingEndedError):
        room.send(mine, started["id"], "仲有咩可以幫到你？", emotion=emotion)
    assert [h["id"] for h in room.history(mine)] == [started["id"]]
    assert room.history(other) == []
    assert "transcript" not in room.history(mine)[0]


def test_a_change_made_meanwhile_is_refused_and_nothing_is_lost(room, agents, sessions):
    from sqlalchemy import update

    from helixdesk.db.session import transaction
    from helixdesk.simulation.models import TrainingSession

    mine = agents[0]
    started = room.start(mine, "scam_victim", "en", emotion=emotion, seed=2)
    opened = room._open(mine, started["id"])
    with transaction(sessions) as s:  # another tab answered first
        s.execute(
            update(TrainingSession)
            .where(TrainingSession.id == started["id"])
            .values(version=TrainingSession.version + 1)
        )
    with pytest.raises(TrainingChangedError):
        room._save(opened, {"transcript": []}, datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
    assert len(room.get(mine, started["id"])["transcript"]) == 1
