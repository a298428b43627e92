"""Live chat over the WebSocket: send, receive, resume after a reconnect with nothing lost."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from helixdesk.edge.app import create_app


@pytest.fixture
def client(sqlite_url, settings_for):
    with TestClient(create_app(settings_for(sqlite_url))) as c:
        yield c


def _frames_until(ws, predicate, limit=20):
    frames = []
    for _ in range(limit):
        frame = ws.receive_json()
        frames.append(frame)
        if predicate(frames):
            return frames
    raise AssertionError(f"condition not met in {frames}")


def _messages(frames):
    return [f["message"] for f in frames if f["type"] == "message"]


def test_send_and_receive_then_resume(client):
    conv = client.post("/api/v1/conversations", json={"channel": "web", "language": "en"}).json()
    url = f"/api/v1/conversations/{conv['id']}/ws?token={conv['token']}"
    with client.websocket_connect(url) as ws:
        ws.send_json({"type": "message", "text": "hello", "client_message_id": "w-1"})
        frames = _frames_until(ws, lambda fs: len(_messages(fs)) >= 2)
        seqs = sorted(m["seq"] for m in _messages(frames))
        assert seqs == [1, 2]
        assert any(f["type"] == "ack" and f["seq"] == 1 for f in frames)
    # Meanwhile a message arrives through the REST API while the socket is away.
    client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": "are you there?"},
        headers={"Authorization": f"Bearer {conv['token']}"},
    )
    with client.websocket_connect(f"{url}&after_seq=2") as ws:
        frames = _frames_until(ws, lambda fs: len(_messages(fs)) >= 2)
        assert sorted(m["seq"] for m in _messages(frames)) == [3, 4]
        # Asking for everything sends only what this socket has not delivered yet, once each.
        ws.send_json({"type": "resume", "after_seq": 0})
        ws.send_json({"type": "ping"})
        frames = _frames_until(ws, lambda fs: fs[-1]["type"] == "pong")
        assert sorted(m["seq"] for m in _messages(frames)) == [1, 2]
        ws.send_json({"type": "resume", "after_seq": 0})
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_duplicate_send_over_socket_is_acknowledged_once(client):
    conv = client.post("/api/v1/conversations", json={"channel": "web"}).json()
    with client.websocket_connect(f"/api/v1/conversations/{conv['id']}/ws?token={conv['token']}") as ws:
        ws.send_json({"type": "message", "text": "hi", "client_message_id": "dup"})
        first = _frames_until(ws, lambda fs: any(f["type"] == "ack" for f in fs))
        ws.send_json({"type": "message", "text": "hi", "client_message_id": "dup"})
        second = _frames_until(ws, lambda fs: any(f["type"] == "ack" for f in fs))
        ack1 = next(f for f in first if f["type"] == "ack")
        ack2 = next(f for f in second if f["type"] == "ack")
        assert ack1["seq"] == ack2["seq"] and ack2["duplicate"] is True


def test_bad_frames_get_error_frames_and_the_socket_stays_open(client):
    conv = client.post("/api/v1/conversations", json={"channel": "web"}).json()
    with client.websocket_connect(f"/api/v1/conversations/{conv['id']}/ws?token={conv['token']}") as ws:
        ws.send_text("not json")
        assert ws.receive_json()["error"]["code"] == "invalid_frame"
        ws.send_json({"type": "dance"})
        assert ws.receive_json()["error"]["code"] == "invalid_frame"
        ws.send_json({"type": "message", "text": ""})
        assert ws.receive_json()["error"]["code"] == "invalid_request"
        ws.send_json({"type": "message", "text": "x" * 3000})
        assert ws.receive_json()["error"]["code"] == "message_too_long"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_unknown_conversation_closes_with_4404(client):
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(
            "/api/v1/conversations/nope/ws", headers={"X-Api-Key": _web_key(client)}
        ) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4404


def _web_key(client):
    _, raw = client.app.state.container.api_keys.create(name="web back end", channel="web")
    return raw


def test_no_token_closes_with_4401_and_another_conversations_token_with_4403(client):
    mine = client.post("/api/v1/conversations", json={"channel": "web"}).json()
    other = client.post("/api/v1/conversations", json={"channel": "web"}).json()
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/api/v1/conversations/{mine['id']}/ws") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4401
    url = f"/api/v1/conversations/{mine['id']}/ws?token={other['token']}"
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(url) as ws:
        ws.receive_json()
    assert closed.value.code == 4403
