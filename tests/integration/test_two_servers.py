"""Two server processes on PostgreSQL and Redis Streams: a message sent to one reaches a socket on the other."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from websockets.sync.client import connect

from tests.serverproc import Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_live_updates_cross_processes(pg_database, tmp_path, server_env):
    env = {
        "HELIXDESK_DATABASE_URL": pg_database,
        "HELIXDESK_EVENT_BUS": "redis",
        "HELIXDESK_REDIS_STREAM": f"helixdesk:test:{uuid.uuid4().hex}",
        **server_env,
    }
    a = Server(env, log=tmp_path / "a.log").start()
    b = Server(env, log=tmp_path / "b.log").start()
    try:
        conv = httpx.post(f"{a.base}/api/v1/conversations", json={"channel": "web", "language": "en"}).json()
        ws_url = b.base.replace("http", "ws") + f"/api/v1/conversations/{conv['id']}/ws?token={conv['token']}"
        with connect(ws_url, open_timeout=10) as ws:
            ws.send(json.dumps({"type": "ping"}))
            assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}  # subscribed before we post
            r = httpx.post(
                f"{a.base}/api/v1/conversations/{conv['id']}/messages",
                json={"text": "hello from A"},
                headers={"Authorization": f"Bearer {conv['token']}"},
            )
            assert r.status_code == 200
            got = []
            while len(got) < 2:
                frame = json.loads(ws.recv(timeout=10))
                if frame["type"] == "message":
                    got.append(frame["message"])
            assert sorted((m["seq"], m["sender"]) for m in got) == [(1, "customer"), (2, "bot")]
            assert got[0]["text"] == "hello from A" or got[1]["text"] == "hello from A"
    finally:
        a.stop()
        b.stop()
