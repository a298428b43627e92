"""The public HTTP API v1 through the real ASGI app (SQLite, in-memory bus)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from helixdesk.app import create_app
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory, transaction


@pytest.fixture
def client(sqlite_url, settings_for):
    engine = make_engine(sqlite_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(3))
    engine.dispose()
    app = create_app(settings_for(sqlite_url, max_request_bytes=4096, max_message_chars=500))
    with TestClient(app) as c:
        yield c


def _conversation(client, **body):
    r = client.post("/api/v1/conversations", json={"channel": "web", **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_conversation_round_trip(client):
    conv = _conversation(client, language="en")
    assert conv["state"] == "bot"
    r = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"text": "Hi, can you help?"})
    assert r.status_code == 200
    body = r.json()
    assert body["message"]["seq"] == 1 and body["message"]["sender"] == "customer"
    assert body["state"] == "bot" and body["handoff"] is None
    assert len(body["replies"]) == 1 and body["replies"][0]["message"]["sender"] == "bot"
    assert "How can I help you today?" in body["replies"][0]["text"]
    got = client.get(f"/api/v1/conversations/{conv['id']}").json()
    assert got["last_seq"] == 2
    page = client.get(f"/api/v1/conversations/{conv['id']}/messages", params={"after_seq": 1}).json()
    assert [m["seq"] for m in page["messages"]] == [2]
    assert page["last_seq"] == 2


def test_reply_follows_the_customers_script(client):
    conv = _conversation(client)
    hant = client.post(
        f"/api/v1/conversations/{conv['id']}/messages", json={"text": "我的信用卡帳單怎麼還沒寄來"}
    )
    # Anonymous: the general answer only, and an invitation to log in, in the customer's script.
    assert "請登入手機銀行" in hant.json()["replies"][-1]["text"]
    hans = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"text": "我想查一下余额"})
    assert "请登录手机银行" in hans.json()["replies"][-1]["text"]


def test_idempotent_send(client):
    conv = _conversation(client)
    url = f"/api/v1/conversations/{conv['id']}/messages"
    a = client.post(url, json={"text": "hello", "client_message_id": "m-1"}).json()
    b = client.post(url, json={"text": "hello", "client_message_id": "m-1"}).json()
    assert b["duplicate"] is True and a["duplicate"] is False
    assert a["message"]["id"] == b["message"]["id"]
    assert len(client.get(f"{url}").json()["messages"]) == 2


def test_known_customer_gets_their_language(client):
    conv = _conversation(client, customer_ref="C000001")
    assert conv["customer_ref"] == "C000001"
    assert conv["language"] in ("zh-Hans", "zh-Hant", "en")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("post", "/api/v1/conversations", {"json": {"channel": "fax"}}, 422, "invalid_request"),
        (
            "post",
            "/api/v1/conversations",
            {"json": {"channel": "web", "customer_ref": "NOPE"}},
            404,
            "customer_not_found",
        ),
        (
            "post",
            "/api/v1/conversations",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            422,
            "malformed_json",
        ),
        ("post", "/api/v1/conversations", {"json": {"channel": "web", "extra": 1}}, 422, "invalid_request"),
        ("get", "/api/v1/conversations/does-not-exist", {}, 404, "conversation_not_found"),
        (
            "post",
            "/api/v1/conversations/does-not-exist/messages",
            {"json": {"text": "hi"}},
            404,
            "conversation_not_found",
        ),
        ("get", "/api/v1/nowhere", {}, 404, "not_found"),
        (
            "post",
            "/api/v1/conversations",
            {"content": b"x" * 5000, "headers": {"content-type": "application/json"}},
            413,
            "payload_too_large",
        ),
        ("post", "/api/v1/nlu/parse", {"json": {"text": ""}}, 422, "invalid_request"),
    ],
)
def test_bad_input_gets_a_stable_error_code(client, method, path, kwargs, status, code):
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_message_errors_keep_what_was_stored(client):
    conv = _conversation(client)
    url = f"/api/v1/conversations/{conv['id']}/messages"
    client.post(url, json={"text": "kept"})
    too_long = client.post(url, json={"text": "x" * 501})
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "message_too_long"
    blank = client.post(url, json={"text": "   "})
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "empty_message"
    bad_id = client.post(url, json={"text": "x", "client_message_id": "has space"})
    assert bad_id.status_code == 422
    messages = client.get(url).json()["messages"]
    assert [m["text"] for m in messages if m["sender"] == "customer"] == ["kept"]


def test_chunked_oversize_body_is_rejected(client):
    def chunks():
        for _ in range(10):
            yield b"x" * 1000

    r = client.post("/api/v1/conversations", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_nlu_parse_returns_the_result_shape(client):
    r = client.post("/api/v1/nlu/parse", json={"text": "我的credit card被freeze了"})
    assert r.status_code == 200
    body = r.json()
    assert body["language"] == "mixed"
    for key in ("intent", "intent_ranking", "entities", "emotion", "risk"):
        assert key in body


def test_openapi_documents_the_v1_api(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/nlu/parse",
    ):
        assert path in paths
    assert "ErrorResponse" in spec["components"]["schemas"]


def test_chat_page_and_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "/static/chat.js" in page.text and "http://" not in page.text.replace("http://testserver", "")
    assert client.get("/static/chat.js").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"
