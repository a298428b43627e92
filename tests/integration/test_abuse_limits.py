"""Rate limits, security headers, CORS and frame limits at the HTTP and WebSocket edge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from helixdesk.edge.app import create_app

WEB = Path(__file__).resolve().parents[2] / "src" / "helixdesk" / "web"


@pytest.fixture
def make_client(sqlite_url, settings_for):
    clients = []

    def build(**overrides):
        settings = settings_for(
            sqlite_url,
            rate_limit_ip_per_minute=overrides.pop("ip", 0),
            rate_limit_api_key_per_minute=overrides.pop("api_key", 0),
            rate_limit_conversation_messages_per_minute=overrides.pop("messages", 0),
            rate_limit_ws_frames_per_minute=overrides.pop("frames", 0),
            **overrides,
        )
        client = TestClient(create_app(settings), base_url=overrides.get("base_url", "http://testserver"))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for c in clients:
        c.__exit__(None, None, None)


TOKENS: dict[str, str] = {}


def _conversation(client) -> str:
    r = client.post("/api/v1/conversations", json={"channel": "web", "language": "en"})
    assert r.status_code == 201, r.text
    TOKENS[r.json()["id"]] = r.json()["token"]
    return r.json()["id"]


def _auth(conv: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[conv]}"}


def _ws(conv: str, query: str = "") -> str:
    return f"/api/v1/conversations/{conv}/ws?token={TOKENS[conv]}" + (f"&{query}" if query else "")


def _is_rate_limited(r) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60


def test_requests_per_client_ip(make_client):
    client = make_client(ip=5)
    assert [client.get("/api/v1/rates").status_code for _ in range(5)] == [200] * 5
    _is_rate_limited(client.get("/api/v1/rates"))
    _is_rate_limited(client.get("/"))  # pages count too
    assert client.get("/healthz").status_code == 200  # health checks never do


def test_requests_per_api_key(make_client):
    client = make_client(api_key=3)
    a = {"X-Api-Key": "key-a"}
    assert [client.get("/api/v1/rates", headers=a).status_code for _ in range(3)] == [200] * 3
    _is_rate_limited(client.get("/api/v1/rates", headers=a))
    assert client.get("/api/v1/rates", headers={"X-Api-Key": "key-b"}).status_code == 200
    assert client.get("/api/v1/rates").status_code == 200  # no key: only the IP limit (off here)


def test_messages_per_conversation_over_rest_and_websocket(make_client):
    client = make_client(messages=2)
    conv = _conversation(client)
    url = f"/api/v1/conversations/{conv}/messages"
    assert client.post(url, json={"text": "hi"}, headers=_auth(conv)).status_code == 200
    assert client.post(url, json={"text": "hi again"}, headers=_auth(conv)).status_code == 200
    _is_rate_limited(client.post(url, json={"text": "and again"}, headers=_auth(conv)))
    other = _conversation(client)
    assert (
        client.post(
            f"/api/v1/conversations/{other}/messages", json={"text": "hi"}, headers=_auth(other)
        ).status_code
        == 200
    )
    stored = client.get(url, headers=_auth(conv)).json()["messages"]
    assert [m["text"] for m in stored if m["sender"] == "customer"] == [
        "hi",
        "hi again",
    ]  # refused: not stored
    with client.websocket_connect(_ws(conv, "after_seq=100")) as ws:
        ws.send_json({"type": "message", "text": "over the socket"})
        frame = ws.receive_json()
        assert frame["type"] == "error" and frame["error"]["code"] == "rate_limited"
        assert frame["error"]["retry_after"] >= 1
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}  # the connection stays open


def test_frames_per_websocket_connection(make_client):
    client = make_client(frames=3)
    conv = _conversation(client)
    with client.websocket_connect(_ws(conv)) as ws:
        for _ in range(3):
            ws.send_json({"type": "ping"})
            assert ws.receive_json() == {"type": "pong"}
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["error"]["code"] == "rate_limited"
    with client.websocket_connect(_ws(conv)) as ws:  # a new connection: its own count
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_websocket_connections_per_ip_and_frame_size(make_client):
    client = make_client(ip=2, max_request_bytes=4096)
    conv = _conversation(client)  # request 1
    with client.websocket_connect(_ws(conv)) as ws:  # 2
        ws.send_text('{"type": "ping", "pad": "' + "x" * 5000 + '"}')
        assert ws.receive_json()["error"]["code"] == "payload_too_large"
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(_ws(conv)) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4429


def test_websocket_from_another_site_is_refused(make_client):
    client = make_client(cors_origins="https://app.bank.example")
    conv = _conversation(client)
    url = _ws(conv)
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(url, headers={"Origin": "https://evil.example"}) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4403
    for origin in ("http://testserver", "https://app.bank.example"):
        with client.websocket_connect(url, headers={"Origin": origin}) as ws:
            ws.send_json({"type": "ping"})
            assert ws.receive_json() == {"type": "pong"}


def test_security_headers_on_every_response(make_client):
    client = make_client(ip=1)
    for r in (client.get("/"), client.get("/api/v1/nope"), client.get("/api/v1/rates")):  # 200, 404, 429
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert "Strict-Transport-Security" not in r.headers  # plain HTTP
    assert r.status_code == 429 and r.headers["Cache-Control"] == "no-store"


def test_hsts_over_tls(make_client):
    client = make_client(base_url="https://testserver")
    assert client.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_cors_is_closed_unless_configured(make_client):
    closed = make_client()
    r = closed.get("/api/v1/rates", headers={"Origin": "https://app.bank.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    pre = closed.options(
        "/api/v1/conversations",
        headers={"Origin": "https://app.bank.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in pre.headers

    opened = make_client(cors_origins="https://app.bank.example")
    ok = opened.get("/api/v1/rates", headers={"Origin": "https://app.bank.example"})
    assert ok.headers["access-control-allow-origin"] == "https://app.bank.example"
    other = opened.get("/api/v1/rates", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_api_docs_are_served_from_the_vendored_copy(make_client):
    client = make_client()
    page = client.get("/docs")
    assert page.status_code == 200 and "vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    for path in ("vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css", "api-docs.js"):
        assert client.get(f"/static/{path}").status_code == 200


def test_pages_have_no_inline_scripts_or_styles():
    for template in (WEB / "templates").glob("*.html"):
        html = template.read_text(encoding="utf-8")
        assert "<style" not in html, template.name
        assert " style=" not in html, template.name
        for tag in html.split("<script")[1:]:
            assert tag.lstrip().startswith("src="), f"inline script in {template.name}"
        assert re.search(r"\son[a-z]+\s*=", html) is None, f"inline event handler in {template.name}"
