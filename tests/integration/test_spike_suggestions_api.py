"""Spikes suggested as incidents through the real app: only operators and supervisors read and
dismiss them (admins see no customer text), CSRF on the dismissal, unknown hotspots refused with
`hotspot_not_found` storing nothing, an incident opened from a spike links it and ends the
suggestion, the register's page shows the suggestions in the page's language, and an operator may
open the hotspot's page it links to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from helixdesk.audit import AuditQuery, search
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.edge.app import create_app
from tests.console_login import sign_in
from tests.spike_data import PLAN, plant

PASSWORD = "correct horse battery staple"
SUGGESTIONS = "/console/api/incidents/suggestions"


def incident(**changes) -> dict:
    body = {
        "kind": "app_error",
        "title": {"zh-Hans": "手机银行更新后闪退"},
        "explanation": {"zh-Hans": "部分客户更新手机银行后打开即闪退，我们正在修复。"},
        "started_at": (datetime.now(UTC) - timedelta(minutes=20)).isoformat(),
    }
    return {**body, **changes}


@pytest.fixture
def client(sqlite_url, settings_for):
    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    plant(make_session_factory(engine))
    engine.dispose()
    with TestClient(create_app(settings_for(sqlite_url)), follow_redirects=False) as c:
        staff = c.app.state.container.staff
        for name, roles in (
            ("ops.a", ["operator"]),
            ("sup.a", ["supervisor"]),
            ("admin.a", ["admin"]),
            ("agent.a", ["agent"]),
            ("qa.a", ["qa_reviewer"]),
        ):
            staff.create_user(
                username=name, password=PASSWORD, display_name=name, roles=roles, ui_language="en"
            )
        yield c


def suggested(client: TestClient) -> set[str]:
    r = client.get(SUGGESTIONS)
    assert r.status_code == 200, r.text
    return {x["hotspot_id"] for x in r.json()["suggestions"]}


@pytest.mark.parametrize("username", ["admin.a", "agent.a", "qa.a"])
def test_only_operators_and_supervisors_read_and_dismiss_suggestions(client, username):
    sign_in(client, username, PASSWORD)
    r = client.get(SUGGESTIONS)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = client.post(f"{SUGGESTIONS}/t-crash/dismiss")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    if username == "admin.a":  # an admin manages incidents, and is shown no spike on the page
        page = client.get("/console/incidents?lang=en")
        assert page.status_code == 200 and 'id="inc-spikes"' not in page.text
    sign_in(client, "sup.a", PASSWORD)
    assert {"t-crash", "t-cards"} <= suggested(client)  # nothing was dismissed


def test_signed_out_calls_are_refused_and_a_dismissal_needs_the_csrf_token(client):
    assert client.get(SUGGESTIONS).json()["error"]["code"] == "auth_required"
    sign_in(client, "ops.a", PASSWORD)
    token = client.headers.pop("X-CSRF-Token")
    r = client.post(f"{SUGGESTIONS}/t-cards/dismiss")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    client.headers["X-CSRF-Token"] = token
    assert "t-cards" in suggested(client)


@pytest.mark.parametrize("bad", ["t-nothere", "unassigned", "x" * 60, "t-crash%20"])
def test_unknown_hotspots_are_refused_with_their_code_and_store_nothing(client, bad):
    sign_in(client, "ops.a", PASSWORD)
    r = client.post(f"{SUGGESTIONS}/{bad}/dismiss")
    assert r.status_code == 404 and r.json()["error"]["code"] == "hotspot_not_found", r.text
    r = client.post("/console/api/incidents", json=incident(hotspot_id=bad.replace("%20", " ")))
    assert r.status_code == 404 and r.json()["error"]["code"] == "hotspot_not_found", r.text
    assert client.get("/console/api/incidents").json()["incidents"] == []
    assert {"t-crash", "t-cards"} <= suggested(client)


def test_a_note_too_long_is_refused_with_invalid_request(client):
    sign_in(client, "ops.a", PASSWORD)
    r = client.post("/console/api/incidents", json=incident(hotspot_id="t-crash", note="x" * 401))
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert client.get("/console/api/incidents").json()["incidents"] == []


@pytest.mark.parametrize("username", ["ops.a", "sup.a"])
def test_an_incident_opened_from_a_spike_ends_its_suggestion_and_a_dismissal_ends_another(client, username):
    sign_in(client, username, PASSWORD)
    before = client.get(SUGGESTIONS).json()
    crash = next(x for x in before["suggestions"] if x["hotspot_id"] == "t-crash")
    assert crash["labels"]["en"].startswith(PLAN["t-crash"]["texts"][2])
    assert crash["link"].startswith("/console/insight/topics/t-crash")
    r = client.post("/console/api/incidents", json=incident(hotspot_id="t-crash", note="16 today"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["hotspot_id"] == "t-crash" and made["versions"][0]["state"]["hotspot_id"] == "t-crash"
    assert made["versions"][0]["summary"].endswith("from hotspot t-crash; 16 today")
    r = client.post(f"{SUGGESTIONS}/t-cards/dismiss")
    assert r.status_code == 200 and r.json()["dismissed_by_name"] == username
    assert suggested(client) == {x["hotspot_id"] for x in before["suggestions"]} - {"t-crash", "t-cards"}
    with reading(client.app.state.container.sessions) as s:
        entries = search(s, AuditQuery(target_kind="hotspot", target_id="t-cards"))
    assert [e.action for e in entries] == ["incident.spike_dismissed"]


def test_the_page_shows_the_suggestions_in_its_language_and_an_operator_may_open_the_hotspot(client):
    sign_in(client, "ops.a", PASSWORD)
    page = client.get("/console/incidents?lang=zh-Hant")
    assert page.status_code == 200
    assert 'id="inc-spikes"' in page.text and 'data-hotspot="t-crash"' in page.text
    assert "客戶突然集中查詢同一問題" in page.text and "最近一天" in page.text
    assert PLAN["t-crash"]["texts"][1] in page.text  # the label in the page's script
    english = client.get("/console/incidents?lang=en")
    assert "Customers suddenly ask the same thing" in english.text and "Last day" in english.text
    topic = client.get("/console/insight/topics/t-crash?period=week&lang=en")
    assert topic.status_code == 200 and 'href="/console/incidents" id="back"' in topic.text
    assert client.get("/console/insight?lang=en").status_code == 403  # the report stays theirs
    sign_in(client, "agent.a", PASSWORD)
    assert client.get("/console/insight/topics/t-crash").status_code == 403
