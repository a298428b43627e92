"""The public HTTP API v1 through the real ASGI app (SQLite, in-memory bus)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app


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
    """Start a web conversation; later calls of this client carry its token."""
    r = client.post("/api/v1/conversations", json={"channel": "web", **body})
    assert r.status_code == 201, r.text
    conv = r.json()
    client.headers["Authorization"] = f"Bearer {conv['token']}"
    return conv


def _key(client, channel="web", scopes=None):
    _, raw = client.app.state.container.api_keys.create(
        name=f"{channel} back end", channel=channel, scopes=scopes
    )
    return raw


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
        ("get", "/api/v1/conversations/does-not-exist", {"key": "web"}, 404, "conversation_not_found"),
        (
            "post",
            "/api/v1/conversations/does-not-exist/messages",
            {"json": {"text": "hi"}, "key": "web"},
            404,
            "conversation_not_found",
        ),
        ("get", "/api/v1/conversations/does-not-exist", {}, 401, "auth_required"),
        ("post", "/api/v1/conversations", {"json": {"channel": "app"}}, 401, "auth_required"),
        (
            "post",
            "/api/v1/conversations",
            {"json": {"channel": "app"}, "key": "web"},
            403,
            "channel_mismatch",
        ),
        (
            "post",
            "/api/v1/conversations",
            {"json": {"channel": "app"}, "headers": {"X-Api-Key": "hdk_not-a-real-key"}},
            401,
            "invalid_api_key",
        ),
        ("get", "/api/v1/nowhere", {}, 404, "not_found"),
        (
            "post",
            "/api/v1/conversations",
            {"content": b"x" * 5000, "headers": {"content-type": "application/json"}},
            413,
            "payload_too_large",
        ),
        ("post", "/api/v1/nlu/parse", {"json": {"text": ""}, "key": "nlu"}, 422, "invalid_request"),
        ("post", "/api/v1/nlu/parse", {"json": {"text": "hi"}}, 401, "auth_required"),
    ],
)
def test_bad_input_gets_a_stable_error_code(client, method, path, kwargs, status, code):
    kwargs = dict(kwargs)
    key = kwargs.pop("key", None)
    if key == "nlu":
        kwargs["headers"] = {"X-Api-Key": _key(client, "api", ["nlu"])}
    elif key is not None:
        kwargs["headers"] = {"X-Api-Key": _key(client, key)}
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


def test_one_customer_cannot_open_another_customers_conversation(client):
    mine = _conversation(client, customer_ref="C000001")
    theirs = client.post("/api/v1/conversations", json={"channel": "web", "customer_ref": "C000002"}).json()
    client.post(
        f"/api/v1/conversations/{theirs['id']}/messages",
        json={"text": "my secret question"},
        headers={"Authorization": f"Bearer {theirs['token']}"},
    )
    for method, path in (
        ("get", f"/api/v1/conversations/{theirs['id']}"),
        ("get", f"/api/v1/conversations/{theirs['id']}/messages"),
        ("post", f"/api/v1/conversations/{theirs['id']}/handoff"),
    ):
        r = getattr(client, method)(path)  # carries mine's token
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "conversation_forbidden"
        assert "my secret question" not in r.text
    r = client.post(f"/api/v1/conversations/{theirs['id']}/messages", json={"text": "hijack"})
    assert r.status_code == 403
    assert client.get(f"/api/v1/conversations/{mine['id']}").status_code == 200


def test_channel_keys_open_their_own_channel_only(client):
    app_key = _key(client, "app")
    conv = client.post(
        "/api/v1/conversations",
        json={"channel": "app", "customer_ref": "C000001"},
        headers={"X-Api-Key": app_key},
    )
    assert conv.status_code == 201, conv.text
    conv_id = conv.json()["id"]
    assert client.get(f"/api/v1/conversations/{conv_id}", headers={"X-Api-Key": app_key}).status_code == 200
    web_key = _key(client, "web")
    other = client.get(f"/api/v1/conversations/{conv_id}", headers={"X-Api-Key": web_key})
    assert other.status_code == 403 and other.json()["error"]["code"] == "conversation_forbidden"
    client.app.state.container.api_keys.revoke(app_key[:12])
    revoked = client.get(f"/api/v1/conversations/{conv_id}", headers={"X-Api-Key": app_key})
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "invalid_api_key"


def test_the_token_is_shown_once_and_stored_only_as_a_hash(client):
    conv = _conversation(client)
    assert conv["token"].startswith("hdc_")
    assert client.get(f"/api/v1/conversations/{conv['id']}").json()["token"] is None
    from sqlalchemy import text

    with client.app.state.container.engine.connect() as c:
        stored = c.execute(text("SELECT token_hash FROM conversations")).scalar_one()
    assert stored and conv["token"] not in stored and len(stored) == 64


def test_the_customer_can_ask_for_a_person_at_any_time(client):
    conv = _conversation(client, language="en")
    r = client.post(f"/api/v1/conversations/{conv['id']}/handoff")
    assert r.status_code == 200 and r.json()["state"] == "waiting_for_agent"
    again = client.post(f"/api/v1/conversations/{conv['id']}/handoff")
    assert again.json()["state"] == "waiting_for_agent"
    texts = [m["text"] for m in client.get(f"/api/v1/conversations/{conv['id']}/messages").json()["messages"]]
    assert len(texts) == 1 and "connecting you" in texts[0]
    # While waiting, the bot stays silent.
    quiet = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"text": "hello?"}).json()
    assert quiet["replies"] == [] and quiet["state"] == "waiting_for_agent"


def test_nlu_parse_returns_the_result_shape(client):
    client.headers["X-Api-Key"] = _key(client, "api", ["nlu"])
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
