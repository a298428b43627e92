"""Killing the server between two messages loses nothing that was acknowledged."""

from __future__ import annotations

import httpx
import pytest

from tests.serverproc import Server

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


def test_acknowledged_messages_survive_sigkill(sqlite_url, tmp_path, server_env):
    env = {"HELIXDESK_DATABASE_URL": sqlite_url, **server_env}
    server = Server(env, log=tmp_path / "server.log").start()
    try:
        conv = httpx.post(
            f"{server.base}/api/v1/conversations", json={"channel": "web", "language": "en"}
        ).json()
        auth = {"Authorization": f"Bearer {conv['token']}"}
        url = f"{server.base}/api/v1/conversations/{conv['id']}/messages"
        first = httpx.post(url, json={"text": "first message", "client_message_id": "k-1"}, headers=auth)
        assert first.status_code == 200
    finally:
        server.kill()
    server = Server(env, log=tmp_path / "server.log").start()
    try:
        url = f"{server.base}/api/v1/conversations/{conv['id']}/messages"
        messages = httpx.get(url, headers=auth).json()["messages"]
        assert [(m["seq"], m["sender"], m["text"]) for m in messages][:1] == [
            (1, "customer", "first message")
        ]
        assert len(messages) == 2
        # The client retries the acknowledged message after the crash: no duplicate.
        retry = httpx.post(
            url, json={"text": "first message", "client_message_id": "k-1"}, headers=auth
        ).json()
        assert retry["duplicate"] is True and retry["message"]["seq"] == 1
        second = httpx.post(
            url, json={"text": "second message", "client_message_id": "k-2"}, headers=auth
        ).json()
        assert second["message"]["seq"] == 3
    finally:
        server.stop()
