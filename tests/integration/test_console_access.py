"""Staff sign-in, sessions, CSRF, lock-out and role-based access to the console pages and API."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app(sqlite_url, settings_for):
    engine = make_engine(sqlite_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(5))
    engine.dispose()
    return create_app(settings_for(sqlite_url, login_max_failures=3))


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as c:
        staff = c.app.state.container.staff
        for name, roles in (
            ("agent.a", ["agent"]),
            ("fraud.a", ["fraud"]),
            ("sup.a", ["supervisor"]),
            ("admin.a", ["admin"]),
        ):
            staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
        yield c


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/console"},
    )


def csrf_of(client: TestClient) -> str:
    page = client.get("/console")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


def fraud_conversation(client: TestClient) -> str:
    conv = client.post("/api/v1/conversations", json={"channel": "web", "customer_ref": "C000001"}).json()
    r = client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": "我的卡被盗刷了"},
        headers={"Authorization": f"Bearer {conv['token']}"},
    )
    assert r.json()["state"] == "waiting_for_agent"
    return conv["id"]


def test_pages_send_strangers_to_sign_in_and_the_api_answers_401(client):
    page = client.get("/console")
    assert page.status_code == 303 and page.headers["location"] == "/console/login?next=/console"
    api = client.get("/console/api/queue")
    assert api.status_code == 401 and api.json()["error"]["code"] == "auth_required"


def test_signing_in_sets_a_safe_cookie_and_a_wrong_password_does_not(client):
    bad = sign_in(client, "agent.a", "wrong password!!")
    assert bad.status_code == 401 and "hd_session" not in bad.cookies
    assert "wrong user name or password" in bad.text
    good = sign_in(client, "agent.a")
    assert good.status_code == 303 and good.headers["location"] == "/console"
    cookie = good.headers["set-cookie"]
    assert "hd_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; "auto" sets it over HTTPS
    assert client.get("/console").status_code == 200
    with client.app.state.container.engine.connect() as c:
        stored = c.execute(text("SELECT token_hash FROM staff_sessions")).scalar_one()
    assert stored != client.cookies.get("hd_session") and len(stored) == 64


def test_a_forged_sign_in_form_and_an_open_redirect_are_refused(client):
    client.get("/console/login")
    forged = client.post(
        "/console/login",
        data={"username": "agent.a", "password": PASSWORD, "csrf_token": "made-up", "next": "/console"},
    )
    assert forged.status_code == 403 and "hd_session" not in forged.cookies
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    away = client.post(
        "/console/login",
        data={
            "username": "agent.a",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert away.status_code == 303 and away.headers["location"] == "/console"


def test_repeated_failures_lock_the_account_until_an_admin_resets_it(client):
    for _ in range(3):
        assert sign_in(client, "agent.a", "not the password").status_code == 401
    locked = sign_in(client, "agent.a")
    assert locked.status_code == 423 and "try again after" in locked.text
    client.app.state.container.staff.reset_password("agent.a", "a brand new passphrase")
    assert sign_in(client, "agent.a", "a brand new passphrase").status_code == 303


def test_unsafe_calls_need_the_csrf_token(client):
    sign_in(client, "agent.a")
    refused = client.post("/console/api/presence", json={"presence": "online"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    ok = client.post(
        "/console/api/presence", json={"presence": "online"}, headers={"X-CSRF-Token": csrf_of(client)}
    )
    assert ok.status_code == 200


def test_an_agent_cannot_open_another_queues_conversation(client):
    conv_id = fraud_conversation(client)
    sign_in(client, "agent.a")
    assert client.get("/console/api/queue").json()["items"] == []
    api = client.get(f"/console/api/conversations/{conv_id}")
    assert api.status_code == 403 and api.json()["error"]["code"] == "conversation_forbidden"
    page = client.get(f"/console/conversations/{conv_id}")
    assert page.status_code == 403 and "我的卡被盗刷了" not in page.text
    events = client.get(f"/console/api/events?conversation={conv_id}")
    assert events.status_code == 403
    client.cookies.clear()
    sign_in(client, "fraud.a")
    page = client.get(f"/console/conversations/{conv_id}")
    assert page.status_code == 200 and "我的卡被盗刷了" in page.text


def test_only_supervisors_see_the_board_and_only_admins_manage_users(client):
    sign_in(client, "agent.a")
    assert client.get("/console/supervisor").status_code == 403
    assert client.get("/console/users").status_code == 403
    assert client.get("/console/api/agents").status_code == 403
    client.cookies.clear()
    sign_in(client, "sup.a")
    assert client.get("/console/supervisor").status_code == 200
    assert client.get("/console/api/agents").status_code == 200
    assert client.get("/console/users").status_code == 403
    client.cookies.clear()
    sign_in(client, "admin.a")
    users = client.get("/console/users")
    assert users.status_code == 200 and "agent.a" in users.text
    assert client.get("/console/supervisor").status_code == 403


def test_signing_out_and_disabling_end_the_session(client):
    sign_in(client, "agent.a")
    out = client.post("/console/logout", data={"csrf_token": csrf_of(client)})
    assert out.status_code == 303
    assert client.get("/console").status_code == 303
    sign_in(client, "agent.a")
    client.app.state.container.staff.set_disabled("agent.a", True)
    assert client.get("/console").status_code == 303
    disabled = sign_in(client, "agent.a")
    assert disabled.status_code == 403 and "disabled" in disabled.text


def test_the_console_speaks_the_agents_language(client):
    sign_in(client, "agent.a")
    assert "待接入会话" in client.get("/console?lang=zh-Hans").text
    assert "Waiting conversations" in client.get("/console?lang=en").text
    assert "待接入對話" in client.get("/console?lang=zh-Hant").text
    assert "待接入對話" in client.get("/console").text  # remembered in a cookie


def test_agents_see_a_typed_card_number_masked_and_reveal_it_only_with_an_audited_reason(client):
    from helixdesk.audit import AuditQuery, search
    from helixdesk.core.identifiers import luhn_check_digit

    body = "622202123456789"
    card = body + luhn_check_digit(body)
    conv = client.post("/api/v1/conversations", json={"channel": "web", "customer_ref": "C000001"}).json()
    r = client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": f"我的卡 {card} 被盗刷了"},
        headers={"Authorization": f"Bearer {conv['token']}"},
    )
    assert r.json()["state"] == "waiting_for_agent" and card not in r.text
    sign_in(client, "fraud.a")
    page = client.get(f"/console/conversations/{conv['id']}")
    assert page.status_code == 200 and card not in page.text and card[-4:] in page.text
    api = client.get(f"/console/api/conversations/{conv['id']}").json()
    assert card not in str(api)
    ((_seq, values),) = api["revealable"].items()
    value = values[0]
    assert value["type"] == "card_number" and value["masked"].endswith(card[-4:])
    csrf = {"X-CSRF-Token": csrf_of(client)}
    url = f"/console/api/conversations/{conv['id']}/reveal"
    ref = {"message_id": value["message_id"], "span_index": value["span_index"]}
    no_reason = client.post(url, json={**ref, "reason": " "}, headers=csrf)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reveal_reason_required"
    shown = client.post(
        url,
        json={
            "message_id": value["message_id"],
            "span_index": value["span_index"],
            "reason": "customer asked to confirm which card was used",
        },
        headers=csrf,
    )
    assert shown.status_code == 200 and shown.json()["value"] == card
    container = client.app.state.container
    with container.sessions() as s:
        entries = search(s, AuditQuery(customer_ref="C000001"))
    actions = [(e.action, e.actor.kind) for e in entries]
    assert ("pii.revealed", "staff") in actions and ("conversation.viewed", "staff") in actions
    revealed = next(e for e in entries if e.action == "pii.revealed")
    assert revealed.reason == "customer asked to confirm which card was used"
    assert revealed.actor.ip == "testclient" and card not in str(revealed.details)
    # Somebody from another queue can neither see nor reveal it.
    client.cookies.clear()
    sign_in(client, "agent.a")
    other = client.post(
        url,
        json={**{k: value[k] for k in ("message_id", "span_index")}, "reason": "just curious, really"},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert other.status_code == 403


def test_supervisors_read_the_audit_log_and_agents_cannot(client):
    sign_in(client, "agent.a")
    assert client.get("/console/audit").status_code == 403
    client.cookies.clear()
    sign_in(client, "sup.a")
    page = client.get("/console/audit", params={"action": "staff.*"})
    assert page.status_code == 200 and "staff.signed_in" in page.text and "staff.created" in page.text
