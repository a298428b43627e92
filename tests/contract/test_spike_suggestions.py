"""Spikes suggested as incidents, on SQLite and PostgreSQL: over a mined month of hotspot rows with
two planted spikes, the suggestions are exactly the report's spikes of the run's last day and week;
an incident opened from one covers it (also once resolved, within the week); a dismissed one is not
suggested again and is audited once; a steady hotspot is never suggested; unknown hotspots are
refused with `hotspot_not_found` and nothing is stored."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from helixdesk.audit import AuditLog, AuditQuery, search, verify_chain
from helixdesk.db.session import reading, transaction
from helixdesk.incidents.checks import IncidentDraft
from helixdesk.incidents.errors import HotspotNotFoundError
from helixdesk.incidents.models import IncidentRow, SpikeDismissalRow
from helixdesk.incidents.register import Author, IncidentRegister
from helixdesk.insight.hotspots import Period, hotspots
from helixdesk.insight.models import InsightMessage
from helixdesk.insight.spikes import SpikeSuggestions, hotspot_known
from tests.spike_data import LANGS, T0, plant

KEY = b"s" * 32
OPS = Author("u-ops", "周航", ip="10.0.0.7")
DRAFT = IncidentDraft(
    kind="app_error",
    title={"zh-Hans": "手机银行更新后闪退"},
    explanation={"zh-Hans": "部分客户更新手机银行后打开即闪退，我们正在修复。"},
    started_at=T0 - timedelta(hours=2),
)


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(clock) -> AuditLog:
    return AuditLog(key=KEY, clock=clock)


@pytest.fixture
def spikes(sessions, audit, clock) -> SpikeSuggestions:
    return SpikeSuggestions(sessions=sessions, audit=audit, clock=clock)


@pytest.fixture
def register(sessions, audit, clock) -> IncidentRegister:
    return IncidentRegister(sessions=sessions, audit=audit, clock=clock, hotspot_known=hotspot_known)


def expected(sessions, rows: list[InsightMessage]) -> dict[str, dict[str, int]]:
    """The report's spikes in the run's last day and week, with each one's size, counted again from
    the planted rows."""
    out: dict[str, dict[str, int]] = {}
    with reading(sessions) as s:
        for kind in ("day", "week"):
            period = Period.last(kind, T0)
            for h in hotspots(s, period).spikes:
                size = sum(
                    1 for r in rows if r.topic_id == h.topic_id and period.since <= r.at < period.until
                )
                assert h.size == size
                out.setdefault(h.topic_id, {})[kind] = size
    return out


def test_no_suggestion_before_the_first_mining_run(spikes):
    assert spikes.suggestions() == {"mined_until": None, "suggestions": []}


def test_the_planted_spikes_are_suggested_with_their_figures_and_the_steady_hotspot_never(spikes, sessions):
    rows = plant(sessions)
    want = expected(sessions, rows)
    assert {"t-crash", "t-cards"} <= set(want) and "t-steady" not in want  # the plan plants two
    read = spikes.suggestions()
    assert datetime.fromisoformat(read["mined_until"]) == T0
    by_id = {x["hotspot_id"]: x for x in read["suggestions"]}
    assert set(by_id) == set(want)
    crash = by_id["t-crash"]
    assert {x["period"]: x["size"] for x in crash["spikes"]} == want["t-crash"]
    day = next(x for x in crash["spikes"] if x["period"] == "day")
    before = [
        sum(
            1
            for r in rows
            if r.topic_id == "t-crash" and T0 - timedelta(days=n + 1) <= r.at < T0 - timedelta(days=n)
        )
        for n in range(1, 5)
    ]
    assert day["usual"] == sum(before) / len(before)
    assert crash["keywords"] == ["crash", "plan"]
    assert crash["link"] == "/console/insight/topics/t-crash?period=day"
    week = [r for r in rows if r.topic_id == "t-crash" and r.at >= T0 - timedelta(days=7)]
    by_channel = Counter(r.channel for r in week)
    assert crash["channels"] == sorted(by_channel, key=lambda c: (-by_channel[c], c))
    for lang in LANGS:  # the message nearest the centre in each language
        best = max((r for r in week if r.language == lang), key=lambda r: (r.topic_score, r.at))
        assert crash["labels"][lang] == best.text
    last = Period.last("week" if "week" in want["t-crash"] else "day", T0)
    shown = [r for r in rows if r.topic_id == "t-crash" and last.since <= r.at < last.until]
    assert crash["languages"] == dict(Counter(r.language for r in shown))


def test_an_incident_opened_from_a_spike_covers_it_even_once_resolved(spikes, register, sessions, clock):
    plant(sessions)
    made = register.create(OPS, DRAFT, hotspot_id="t-crash", note="42 today, usually 2")
    assert made["hotspot_id"] == "t-crash"
    assert made["versions"][0]["summary"] == "opened: app_error from hotspot t-crash; 42 today, usually 2"
    with reading(sessions) as s:
        [entry] = search(s, AuditQuery(target_kind="incident", target_id=made["id"]))
    assert entry.details["hotspot_id"] == "t-crash"
    left = {x["hotspot_id"] for x in spikes.suggestions()["suggestions"]}
    assert "t-crash" not in left and "t-cards" in left
    clock.now = T0 + timedelta(hours=3)
    register.resolve(OPS, made["id"], note="fixed")
    assert "t-crash" not in {x["hotspot_id"] for x in spikes.suggestions()["suggestions"]}
    # An incident resolved before the run's week began dealt with an earlier spike: this one is new.
    with transaction(sessions) as s:
        row = s.get(IncidentRow, made["id"])
        assert row is not None
        row.resolved_at = T0 - timedelta(days=8)
    assert "t-crash" in {x["hotspot_id"] for x in spikes.suggestions()["suggestions"]}


def test_a_dismissed_spike_is_stored_audited_once_and_not_suggested_again(spikes, sessions, clock, audit):
    plant(sessions)
    done = spikes.dismiss(OPS, "t-cards")
    assert done["hotspot_id"] == "t-cards" and done["dismissed_by"] == "u-ops"
    assert done["dismissed_by_name"] == "周航" and datetime.fromisoformat(done["dismissed_at"]) == clock.now
    clock.now += timedelta(minutes=5)
    again = spikes.dismiss(Author("u-other", "李娜"), "t-cards")
    assert again == done  # the first judgement stands
    assert "t-cards" not in {x["hotspot_id"] for x in spikes.suggestions()["suggestions"]}
    assert "t-crash" in {x["hotspot_id"] for x in spikes.suggestions()["suggestions"]}
    with reading(sessions) as s:
        entries = search(s, AuditQuery(target_kind="hotspot", target_id="t-cards"))
    assert [(e.action, e.actor.id, e.actor.ip) for e in entries] == [
        ("incident.spike_dismissed", "u-ops", "10.0.0.7")
    ]
    assert verify_chain(sessions, KEY).ok


def test_unknown_hotspots_are_refused_and_nothing_is_stored(spikes, register, sessions):
    plant(sessions)
    for bad in ("t-nothere", "x" * 40, "unassigned"):
        with pytest.raises(HotspotNotFoundError) as refused:
            spikes.dismiss(OPS, bad)
        assert refused.value.code == "hotspot_not_found" and refused.value.http_status == 404
        with pytest.raises(HotspotNotFoundError):
            register.create(OPS, DRAFT, hotspot_id=bad)
    # A register that cannot check hotspots links none.
    with pytest.raises(HotspotNotFoundError):
        IncidentRegister(sessions=sessions).create(OPS, DRAFT, hotspot_id="t-crash")
    with reading(sessions) as s:
        assert s.scalar(select(func.count()).select_from(IncidentRow)) == 0
        assert s.scalar(select(func.count()).select_from(SpikeDismissalRow)) == 0
