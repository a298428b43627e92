"""The incident campaigns' console API and the customers' opt-outs, through the real app: who may
use them, CSRF, the stable error codes (and nothing stored on a refusal), the audit entries, and the
incidents page's campaign panel in the page's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from helixdesk.audit import AuditQuery
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from tests.console_login import sign_in
from tests.integration.test_incidents_api import PASSWORD, _at, _create, app_incident


@pytest.fixture
def client(sqlite_url, settings_for):  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(20))
    engine.dispose()
    with TestClient(create_app(settings_for(sqlite_url)), follow_redirects=False) as c:
        staff = c.app.state.container.staff
        for name, roles in (
            ("ops.a", ["operator"]),
            ("agent.a", ["agent"]),
            ("agent.b", ["agent"]),
            ("kb.a", ["knowledge_editor"]),
            ("mgr.a", ["manager"]),
        ):
            staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
        yield c


def _campaign(client: TestClient, incident_id: str, **body) -> object:
    return client.post(f"/console/api/incidents/{incident_id}/campaign", json={"channel": "sms", **body})


def _code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


@pytest.mark.parametrize("username", ["agent.a", "kb.a", "mgr.a"])
def test_only_incident_managers_start_and_cancel_campaigns(client, username):
    sign_in(client, "ops.a", PASSWORD)
    made = _create(client)
    sign_in(client, username, PASSWORD)
    r = _campaign(client, made["id"])
    assert r.status_code == 403 and _code(r) == "forbidden"
    assert _code(client.get(f"/console/api/incidents/{made['id']}/campaign")) == "forbidden"
    sign_in(client, "ops.a", PASSWORD)
    assert _code(client.get(f"/console/api/incidents/{made['id']}/campaign")) == "campaign_not_found"


def test_start_follow_and_cancel_with_stable_codes(client):
    sign_in(client, "ops.a", PASSWORD)
    made = _create(client)
    path = f"/console/api/incidents/{made['id']}/campaign"
    assert _code(client.post(path + "/cancel", json={})) == "campaign_not_found"
    started = _campaign(client, made["id"], message={"zh-Hans": "手机银行暂时无法登录，我们正在处理。"})
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["status"] == "running" and body["channel"] == "sms"
    assert body["started_by_name"] == "ops.a" and body["message"] == {
        "zh-Hans": "手机银行暂时无法登录，我们正在处理。"
    }
    assert set(body["counts"]) >= {
        "targeted",
        "sent",
        "skipped_opt_out",
        "skipped_no_contact",
        "waiting_quiet_hours",
        "failed",
    }
    again = _campaign(client, made["id"], channel="email")
    assert again.status_code == 409 and _code(again) == "campaign_running"
    assert client.get(path).json()["id"] == body["id"]
    cancelled = client.post(path + "/cancel", json={})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert _code(client.post(path + "/cancel", json={})) == "campaign_not_running"
    entries = client.app.state.container.audit_search.search(
        AuditQuery(target_kind="incident", target_id=made["id"], action="incident.*")
    )
    assert sorted(e.action for e in entries if e.action.startswith("incident.campaign")) == [
        "incident.campaign_cancelled",
        "incident.campaign_started",
    ]


def test_bad_input_is_refused_and_stores_nothing(client):
    sign_in(client, "ops.a", PASSWORD)
    made = _create(client)
    path = f"/console/api/incidents/{made['id']}/campaign"
    assert _code(_campaign(client, made["id"], channel="fax")) == "invalid_request"
    assert _code(_campaign(client, made["id"], message={"fr": "Désolé"})) == "invalid_campaign"
    assert _code(_campaign(client, made["id"], message={"en": "x" * 501})) == "invalid_campaign"
    assert _code(_campaign(client, made["id"], surprise=True)) == "invalid_request"
    assert _code(_campaign(client, "no-such-incident")) == "incident_not_found"
    later = _create(client, started_at=_at(timedelta(hours=3)), expected_fix_at=_at(timedelta(hours=5)))
    r = _campaign(client, later["id"])
    assert r.status_code == 409 and _code(r) == "incident_not_active"
    assert _code(client.get(path)) == "campaign_not_found"
    del client.headers["X-CSRF-Token"]
    r = _campaign(client, made["id"])
    assert r.status_code == 403 and _code(r) == "csrf_failed"


def test_staff_record_a_customers_opt_out_on_request_audited(client):
    sign_in(client, "agent.b", PASSWORD)
    path = "/console/api/customers/C000003/opt-outs"
    assert client.get(path).json()["purposes"] == [
        {"purpose": "service_notice", "opted_out": False, "since": None, "note": ""}
    ]
    r = client.put(path + "/service_notice", json={"note": "asked on the phone"})
    assert r.status_code == 200, r.text
    assert (
        r.json()["purposes"][0]["opted_out"] is True
        and r.json()["purposes"][0]["note"] == "asked on the phone"
    )
    assert client.put(path + "/service_notice", json={}).json()["purposes"][0]["opted_out"] is True
    unknown = client.put(path + "/marketing", json={})  # not a purpose the API lists
    assert unknown.status_code == 422 and _code(unknown) == "invalid_request", unknown.text
    assert _code(client.put("/console/api/customers/C999999/opt-outs/service_notice", json={})) == (
        "customer_not_found"
    )
    assert client.delete(path + "/service_notice").json()["purposes"][0]["opted_out"] is False
    entries = client.app.state.container.audit_search.search(
        AuditQuery(customer_ref="C000003", action="notification.*")
    )
    assert sorted(e.action for e in entries) == ["notification.opted_in", "notification.opted_out"]
    assert all(e.actor.kind == "staff" for e in entries)
    sign_in(client, "ops.a", PASSWORD)
    assert _code(client.put(path + "/service_notice", json={})) == "forbidden"


def test_the_incidents_page_shows_the_campaign_panel_in_the_pages_language(client):
    sign_in(client, "ops.a", PASSWORD)
    made = _create(client, **app_incident())
    _campaign(client, made["id"])
    page = client.get("/console/incidents?lang=zh-Hant").text
    assert "通知受影響的客戶" in page and "發送中" in page and 'data-status="running"' in page
    assert "目標客戶" in page and "停止通知" in page
    page = client.get("/console/incidents?lang=en").text
    assert "Notify the affected customers" in page and "Cancel the campaign" in page
