"""Drift alarms in the console API: managers and supervisors read the days and the alarms,
supervisors resolve them (once: `drift_alarm_resolved`), agents are refused; the supervisor's
board and the analytics page carry the drift panel in the person's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from helixdesk.auth.demo import seed_demo_staff
from helixdesk.auth.service import StaffAccounts
from helixdesk.core.timezones import zone
from helixdesk.db.session import transaction
from helixdesk.drift.judge import DriftJudge
from helixdesk.edge.app import create_app
from helixdesk.packs.loader import load_pack
from tests.console_login import sign_in
from tests.drift_data import days_ago, stored_day

PASSWORD = "drift-console-2026"
FIRST = days_ago(10)  # the flooded day two days ago
FLOOD = FIRST + timedelta(days=8)


@pytest.fixture
def desk(sqlite_url, settings_for):
    app = create_app(settings_for(sqlite_url))
    with TestClient(app, follow_redirects=False) as client:
        sessions = client.app.state.container.sessions
        seed_demo_staff(StaffAccounts(sessions=sessions), password=PASSWORD)
        with transaction(sessions) as s:
            for i in range(8):
                stored_day(s, FIRST + timedelta(days=i), 100, {"余额": 400, "查询": 400}, oos=6)
            stored_day(s, FLOOD, 100, {"余额": 200, "数币": 200, "硬钱包": 100}, oos=40)
        judge = DriftJudge(
            sessions=sessions, tz=zone("Asia/Shanghai"), pack_path=load_pack("retail_bank").path
        )
        judge.run()
        yield client


def as_user(client: TestClient, username: str) -> TestClient:
    client.headers.pop("X-CSRF-Token", None)
    sign_in(client, username, PASSWORD)
    return client


PERIOD = {"from": FIRST.isoformat(), "to": FLOOD.isoformat()}


def test_a_manager_reads_the_days_and_alarms_and_a_supervisor_resolves_one(desk):
    manager = as_user(desk, "mgr.gao")
    r = manager.get("/console/api/analytics/drift", params=PERIOD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "all" and len(body["days"]) == 9 and body["retraining"] is None
    flood = body["days"][-1]
    assert flood["day"] == FLOOD.isoformat() and flood["reference"]["kind"] == "window"
    beyond = {m["name"] for m in flood["measures"] if m["beyond"]}
    assert beyond == {"oos_rate", "new_vocabulary"}
    assert {a["measure"] for a in body["alarms"]} == beyond
    r = manager.get("/console/api/analytics/drift", params={**PERIOD, "scope": "zh-Hans"})
    assert r.status_code == 200 and r.json()["scope"] == "zh-Hans"
    r = manager.get("/console/api/analytics/drift", params={**PERIOD, "scope": "fr"})
    assert r.status_code == 422 and r.json()["error"]["code"]
    r = manager.get("/console/api/analytics/drift", params={"from": "2026-10-09", "to": "2026-10-01"})
    assert r.status_code in (400, 422) and r.json()["error"]["code"] == "invalid_period"

    alarms = manager.get("/console/api/drift/alarms").json()["alarms"]
    assert len(alarms) == 4 and {a["scope"] for a in alarms} == {"all", "zh-Hans"}
    vocabulary = next(a for a in alarms if a["measure"] == "new_vocabulary" and a["scope"] == "all")
    assert [d["token"] for d in vocabulary["detail"]] == ["数币", "硬钱包"]
    r = manager.post(f"/console/api/drift/alarms/{vocabulary['id']}/resolve", json={"note": "seen"})
    assert r.status_code == 403

    boss = as_user(desk, "sup.liu")
    r = boss.post(f"/console/api/drift/alarms/{vocabulary['id']}/resolve", json={"note": "e-CNY launch"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved" and r.json()["resolved_by"] == "刘洋"
    r = boss.post(f"/console/api/drift/alarms/{vocabulary['id']}/resolve", json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "drift_alarm_resolved"
    r = boss.post("/console/api/drift/alarms/nope/resolve", json={})
    assert r.status_code == 404 and r.json()["error"]["code"] == "drift_alarm_not_found"
    r = boss.post(f"/console/api/drift/alarms/{vocabulary['id']}/resolve", json={"note": "x" * 1001})
    assert r.status_code == 422
    assert len(boss.get("/console/api/drift/alarms").json()["alarms"]) == 3
    resolved = boss.get("/console/api/drift/alarms", params={"status": "resolved"}).json()["alarms"]
    assert [a["note"] for a in resolved] == ["e-CNY launch"]


def test_agents_are_refused(desk):
    agent = as_user(desk, "agent.li")
    assert agent.get("/console/api/drift/alarms").status_code == 403
    assert agent.get("/console/api/analytics/drift").status_code == 403


def test_the_board_and_the_analytics_page_carry_the_drift_panel_in_three_languages(desk):
    boss = as_user(desk, "sup.liu")
    for lang, title, column in (
        ("zh-Hans", "模型漂移告警", "新词占比"),
        ("zh-Hant", "模型漂移警示", "新詞佔比"),
        ("en", "Model drift alarms", "New-word share"),
    ):
        page = boss.get("/console/supervisor", params={"lang": lang})
        assert page.status_code == 200
        assert 'id="drift-panel"' in page.text and title in page.text
        analytics = boss.get("/console/analytics", params={"lang": lang})
        assert 'id="drift-table"' in analytics.text and column in analytics.text
        assert "analytics_drift.js" in analytics.text
