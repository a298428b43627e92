"""Input that no database can keep, and numbers past any range, get clear 4xx answers, on SQLite
and PostgreSQL alike, and nothing stored is touched."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app

# Each test builds the whole app, on both databases: in the full suite, not the fast lane.
pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
HUGE = 10**20


@pytest.fixture
def client(db_url, settings_for):
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(3))
    engine.dispose()
    settings = settings_for(db_url, ws_max_per_conversation=2)
    with TestClient(create_app(settings), follow_redirects=False) as c:
        c.app.state.container.staff.create_user(
            username="sup.h", password=PASSWORD, display_name="Sup", roles=["supervisor", "fraud"]
        )
        yield c


def _conversation(client: TestClient) -> tuple[str, dict[str, str]]:
    conv = client.post("/api/v1/conversations", json={"channel": "web", "language": "en"}).json()
    return conv, {"Authorization": f"Bearer {conv['token']}"}


def _messages(client: TestClient, conv: dict[str, str], auth: dict[str, str]) -> list[str]:
    r = client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=auth)
    return [m["text"] for m in r.json()["messages"]]


def test_nul_and_unpaired_surrogates_are_refused_everywhere(client):
    conv, auth = _conversation(client)
    url = f"/api/v1/conversations/{conv['id']}/messages"
    assert client.post(url, json={"text": "hello"}, headers=auth).status_code == 200
    before = _messages(client, conv, auth)
    for body in (
        '{"text": "a\\u0000b"}',
        '{"text": "\\ud800 lone"}',
        '{"text": "ok", "client_message_id": "a\\u0000"}',
    ):
        r = client.post(url, content=body, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_characters"
    # In the address too (a path or a query).
    r = client.get("/api/v1/conversations/%00/messages", headers=auth)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_characters"
    r = client.get(f"/api/v1/conversations/{conv['id']}/messages?after_seq=1%00", headers=auth)
    assert r.status_code == 422
    assert _messages(client, conv, auth) == before  # nothing stored, nothing lost


def test_the_socket_refuses_bad_frames_and_stays_open(client):
    conv, _ = _conversation(client)
    url = f"/api/v1/conversations/{conv['id']}/ws?token={conv['token']}&after_seq={HUGE}"
    with client.websocket_connect(url) as ws:
        ws.send_text('{"type": "message", "text": "x\\u0000y"}')
        frame = ws.receive_json()
        assert frame["type"] == "error" and frame["error"]["code"] == "invalid_characters"
        ws.send_json({"type": "resume", "after_seq": HUGE})
        frame = ws.receive_json()
        assert frame["type"] == "error" and frame["error"]["code"] == "invalid_frame"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_a_conversation_takes_only_so_many_sockets_at_once(client):
    from starlette.websockets import WebSocketDisconnect

    conv, _ = _conversation(client)
    url = f"/api/v1/conversations/{conv['id']}/ws?token={conv['token']}"
    with client.websocket_connect(url) as a, client.websocket_connect(url) as b:
        for ws in (a, b):
            ws.send_json({"type": "ping"})
            assert ws.receive_json() == {"type": "pong"}
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(url) as c:
            c.receive_json()
        assert closed.value.code == 4429
    # Closed sockets no longer count.
    with client.websocket_connect(url) as again:
        again.send_json({"type": "ping"})
        assert again.receive_json() == {"type": "pong"}


def test_out_of_range_numbers_and_odd_messages_get_answers_not_500(client):
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed = client.post(
        "/console/login",
        data={"username": "sup.h", "password": PASSWORD, "csrf_token": token.group(1), "next": "/console"},
    )
    assert signed.status_code == 303
    r = client.get(f"/console/audit?before_seq={HUGE}")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert client.get("/console/audit?before_seq=5").status_code == 200
    for text in ("$", "美元汇率是多少", "How many HKD for 100 USD?", "%s %d {0} ${x}"):
        conv, auth = _conversation(client)
        r = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"text": text}, headers=auth)
        assert r.status_code == 200, (text, r.text)
        assert r.json()["replies"], text


def test_a_5xx_answer_carries_its_code_but_no_internal_details(sqlite_url, settings_for):
    from helixdesk.core.errors import ConfigurationError

    app = create_app(settings_for(sqlite_url))

    async def broken() -> None:
        raise ConfigurationError("no template 'ask.secret_internal_key'", code="template_missing")

    app.add_api_route("/broken", broken)
    with TestClient(app) as c:
        r = c.get("/broken")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "template_missing"
    assert "ask.secret_internal_key" not in r.text
