"""The incident register's console API and the bot telling affected customers, through the real app:
who may use it, CSRF, create/update/resolve with versions and audit entries, bad input with stable
codes that stores nothing, and real conversations through the real NLU and dialogue (an affected
customer's first reply is the explanation, once; an unaffected or anonymous one hears nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from helixdesk.audit import AuditQuery
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.incidents.regions import region_keys
from tests.console_login import sign_in

PASSWORD = "correct horse battery staple"
EXPLANATION = "手机银行登录服务出现故障，部分客户暂时无法登录。"


def _at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def app_incident(**changes) -> dict:
    body = {
        "kind": "app_error",
        "title": {"zh-Hans": "手机银行无法登录", "en": "Mobile app sign-in failing"},
        "explanation": {"zh-Hans": EXPLANATION, "en": "Some customers cannot sign in to the app."},
        "products": ["mobile_app"],
        "started_at": _at(timedelta(minutes=-20)),
        "expected_fix_at": _at(timedelta(hours=2)),
    }
    return {**body, **changes}


@pytest.fixture
def client(sqlite_url, settings_for):
    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(20))
    engine.dispose()
    with TestClient(create_app(settings_for(sqlite_url)), follow_redirects=False) as c:
        staff = c.app.state.container.staff
        for name, roles in (
            ("ops.a", ["operator"]),
            ("sup.a", ["supervisor"]),
            ("admin.a", ["admin"]),
            ("agent.a", ["agent"]),
            ("kb.a", ["knowledge_editor"]),
            ("mgr.a", ["manager"]),
        ):
            staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
        yield c


def _create(client: TestClient, **changes) -> dict:
    r = client.post("/console/api/incidents", json=app_incident(**changes))
    assert r.status_code == 201, r.text
    return r.json()


# ---- who may use it ------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["agent.a", "kb.a", "mgr.a"])
def test_only_operators_supervisors_and_admins_get_in(client, username):
    sign_in(client, username, PASSWORD)
    assert client.get("/console/api/incidents").json()["error"]["code"] == "forbidden"
    assert client.post("/console/api/incidents", json=app_incident()).status_code == 403
    assert client.get("/console/incidents").status_code == 403
    assert 'href="/console/incidents"' not in client.get("/console").text
    sign_in(client, "ops.a", PASSWORD)
    assert client.get("/console/api/incidents").json() == {"incidents": []}  # nothing was stored


@pytest.mark.parametrize("username", ["ops.a", "sup.a", "admin.a"])
def test_operators_supervisors_and_admins_manage_incidents(client, username):
    sign_in(client, username, PASSWORD)
    made = _create(client)
    assert client.get("/console/api/incidents").json()["incidents"][0]["id"] == made["id"]
    page = client.get("/console/incidents?lang=en")
    assert page.status_code == 200 and "Incidents" in page.text and 'id="nav-incidents"' in page.text
    assert "Mobile app sign-in failing" in page.text


def test_signed_out_calls_are_refused_and_unsafe_calls_need_the_csrf_token(client):
    assert client.get("/console/api/incidents").json()["error"]["code"] == "auth_required"
    sign_in(client, "ops.a", PASSWORD)
    del client.headers["X-CSRF-Token"]
    r = client.post("/console/api/incidents", json=app_incident())
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert client.get("/console/api/incidents").json()["incidents"] == []


# ---- create, update, resolve ----------------------------------------------------------------------


def test_create_update_and_resolve_each_make_a_version_and_an_audit_entry(client):
    sign_in(client, "ops.a", PASSWORD)
    made = _create(client, regions=["Shanghai"], channels=["app"])
    assert made["version"] == 1 and made["status"] == "open" and made["active"] is True
    assert made["regions"] == ["Shanghai"] and made["channels"] == ["app"] and made["explained"] == 0
    later = _at(timedelta(hours=5))
    changed = client.patch(
        f"/console/api/incidents/{made['id']}",
        json={"expected_fix_at": later, "status": "monitoring", "version": 1},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["version"] == 2 and body["status"] == "monitoring"
    assert datetime.fromisoformat(body["expected_fix_at"]) == datetime.fromisoformat(later)
    cleared = client.patch(f"/console/api/incidents/{made['id']}", json={"expected_fix_at": None}).json()
    assert cleared["expected_fix_at"] is None and cleared["version"] == 3
    done = client.post(
        f"/console/api/incidents/{made['id']}/resolve", json={"note": "restarted", "version": 3}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved" and done.json()["active"] is False
    full = client.get(f"/console/api/incidents/{made['id']}").json()
    assert [v["action"] for v in full["versions"]] == ["resolve", "update", "update", "create"]
    assert full["versions"][0]["summary"] == "resolved: restarted"
    assert full["versions"][-1]["actor_name"] == "ops.a"
    entries = client.app.state.container.audit_search.search(AuditQuery(target_kind="incident"))
    assert [e.action for e in reversed(entries)] == [
        "incident.created",
        "incident.updated",
        "incident.updated",
        "incident.resolved",
    ]
    assert client.get("/console/api/incidents?status=active").json()["incidents"] == []
    assert len(client.get("/console/api/incidents?status=resolved").json()["incidents"]) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (app_incident(kind="earthquake"), "invalid_incident"),
        (app_incident(title={"zh-Hans": "  "}), "invalid_incident"),
        (app_incident(title={"fr": "Panne"}), "invalid_incident"),
        (app_incident(products=["mortgage"]), "invalid_incident"),
        (app_incident(channels=["fax"]), "invalid_incident"),
        (app_incident(regions=[" "]), "invalid_incident"),
        (app_incident(expected_fix_at=_at(timedelta(minutes=-30))), "invalid_incident"),
        (app_incident(started_at=_at(timedelta(days=500)), expected_fix_at=None), "invalid_incident"),
        (app_incident(started_at="2026-12-04T09:00:00"), "invalid_request"),  # no zone
        (app_incident(started_at=1764838800), "invalid_request"),  # not ISO text
        (app_incident(status="resolved"), "invalid_request"),
        ({**app_incident(), "severity": "high"}, "invalid_request"),
        ({"kind": "outage", "title": {"en": "x"}}, "invalid_request"),  # no explanation
    ],
)
def test_bad_input_gets_a_stable_code_and_stores_nothing(client, body, code):
    sign_in(client, "ops.a", PASSWORD)
    r = client.post("/console/api/incidents", json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == code, r.text
    assert client.get("/console/api/incidents").json()["incidents"] == []


def test_refused_changes_leave_the_incident_as_it_was(client):
    sign_in(client, "ops.a", PASSWORD)
    made = _create(client)
    url = f"/console/api/incidents/{made['id']}"
    before = client.get(url).json()
    started = made["started_at"]
    for body, status, code in (
        ({"expected_fix_at": started}, 422, "invalid_incident"),  # not after the start
        ({"kind": None}, 422, "invalid_incident"),
        ({"products": ["nope"]}, 422, "invalid_incident"),
        ({"kind": "outage", "version": 9}, 409, "incident_changed"),
        ({"status": "resolved"}, 422, "invalid_request"),
    ):
        r = client.patch(url, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
    assert client.get(url).json() == before
    missing = client.patch("/console/api/incidents/no-such-id", json={"kind": "outage"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "incident_not_found"
    assert client.get("/console/api/incidents/no-such-id").json()["error"]["code"] == "incident_not_found"
    early = client.post(f"{url}/resolve", json={"resolved_at": _at(timedelta(hours=-1))})
    assert early.json()["error"]["code"] == "invalid_incident"  # before it started
    ahead = client.post(f"{url}/resolve", json={"resolved_at": _at(timedelta(hours=1))})
    assert ahead.json()["error"]["code"] == "invalid_incident"
    assert client.post(f"{url}/resolve", json={}).status_code == 200
    again = client.post(f"{url}/resolve", json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "incident_resolved"
    frozen = client.patch(url, json={"kind": "outage"})
    assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "incident_resolved"


# ---- the bot tells affected customers ------------------------------------------------------------


class Chat:
    def __init__(self, client: TestClient, customer_ref: str | None) -> None:
        self.client = client
        body = {"channel": "web", "language": "zh-Hans"}
        if customer_ref:
            body["customer_ref"] = customer_ref
        r = client.post("/api/v1/conversations", json=body)
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        self.headers = {"Authorization": f"Bearer {r.json()['token']}"}

    def say(self, text: str) -> list[dict]:
        r = self.client.post(
            f"/api/v1/conversations/{self.id}/messages", json={"text": text}, headers=self.headers
        )
        assert r.status_code == 200, r.text
        return r.json()["replies"]


def _two_customers_in_different_regions(client: TestClient) -> tuple[str, str, str]:
    bank = client.app.state.container.bank
    customers = [bank.get_customer(f"C{i:06d}") for i in range(1, 21)]
    first = customers[0]
    other = next(c for c in customers if not region_keys(c.city) & region_keys(first.city))
    return first.ref, other.ref, first.city


def test_an_affected_customer_hears_the_explanation_first_once_and_nobody_else_does(client):
    affected, elsewhere, city = _two_customers_in_different_regions(client)
    sign_in(client, "ops.a", PASSWORD)
    made = _create(client, regions=[city])

    chat = Chat(client, affected)
    first = chat.say("你好，我想查一下余额")
    assert first[0]["kind"] == "incident"
    assert first[0]["text"].startswith("【服务通知】手机银行无法登录：" + EXPLANATION)
    assert "预计" in first[0]["text"] and len(first) > 1  # then the answer to the question
    second = chat.say("我的信用卡账单是多少")
    assert all(r["kind"] != "incident" and EXPLANATION not in r["text"] for r in second)

    for ref in (elsewhere, None):  # another region; an anonymous visitor (the incident names a product)
        replies = Chat(client, ref).say("你好，我想查一下余额")
        assert all(r["kind"] != "incident" and EXPLANATION not in r["text"] for r in replies)

    listed = client.get("/console/api/incidents").json()["incidents"]
    assert [(i["id"], i["explained"]) for i in listed] == [(made["id"], 1)]
    page = client.get("/console/incidents?lang=en").text
    assert f'data-incident="{made["id"]}"' in page and '<td class="num inc__explained">1</td>' in page

    assert client.post(f"/console/api/incidents/{made['id']}/resolve", json={}).status_code == 200
    after = Chat(client, affected).say("你好，我想查一下余额")
    assert all(r["kind"] != "incident" for r in after)
    assert client.get(f"/console/api/incidents/{made['id']}").json()["explained"] == 1


def test_a_channel_only_incident_reaches_an_anonymous_visitor_in_their_language(client):
    sign_in(client, "ops.a", PASSWORD)
    _create(client, products=[], channels=["web"], explanation={"zh-Hans": EXPLANATION})
    replies = Chat(client, None).say("你好")
    assert replies[0]["kind"] == "incident" and EXPLANATION in replies[0]["text"]
    english = Chat(client, None)
    english_replies = english.say("hello, is anyone there?")
    # Only Chinese was written: the English reply carries the Chinese explanation.
    assert english_replies[0]["text"].startswith(
        "Service notice — Mobile app sign-in failing: " + EXPLANATION
    )
