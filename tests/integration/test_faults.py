"""Faults injected for real into running servers: Redis restarted without its data, SIGTERM with
open live streams, PostgreSQL crashed and restarted, credentials revoked under open connections.
Every Redis and PostgreSQL here is the test's own, on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from helixdesk.auth.apikeys import ApiKeys
from helixdesk.auth.service import StaffAccounts
from helixdesk.db.session import make_engine, make_session_factory
from tests.console_login import sign_in
from tests.pgproc import PostgresServer
from tests.redisproc import RedisServer
from tests.serverproc import Server

pytestmark = [pytest.mark.slow, pytest.mark.faults]

PASSWORD = "correct horse battery staple"


@contextlib.contextmanager
def _ws(server: Server, conv: dict[str, str]) -> Iterator[ClientConnection]:
    url = server.base.replace("http", "ws") + f"/api/v1/conversations/{conv['id']}/ws?token={conv['token']}"
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "ping"}))
        while json.loads(ws.recv(timeout=10))["type"] != "pong":
            pass
        yield ws


def _messages_until(ws: ClientConnection, seq: int, timeout: float) -> dict[int, dict[str, object]]:
    """Message frames until one with sequence number `seq` arrived (or the time is up)."""
    got: dict[int, dict[str, object]] = {}
    deadline = time.monotonic() + timeout
    while seq not in got and time.monotonic() < deadline:
        try:
            frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        if frame["type"] == "message":
            got[frame["message"]["seq"]] = frame["message"]
    return got


def _post(server: Server, conv: dict[str, str], text: str, *, within: float = 30) -> httpx.Response:
    """Post a customer message, retrying while the service answers 503 (an outage)."""
    url = f"{server.base}/api/v1/conversations/{conv['id']}/messages"
    body = {"text": text, "client_message_id": uuid.uuid4().hex}
    deadline = time.monotonic() + within
    while True:
        try:
            r = httpx.post(url, json=body, headers={"Authorization": f"Bearer {conv['token']}"}, timeout=30)
            if r.status_code != 503 or time.monotonic() > deadline:
                return r
            assert r.json()["error"]["code"] == "unavailable"
            assert int(r.headers["Retry-After"]) > 0
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def _conversation(server: Server) -> dict[str, str]:
    r = httpx.post(f"{server.base}/api/v1/conversations", json={"channel": "web", "language": "en"})
    assert r.status_code == 201, r.text
    return r.json()


# ---- Redis ------------------------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.parametrize("persistence", [False, True], ids=["no-persistence", "aof"])
def test_live_updates_come_back_after_redis_restarts(persistence, sqlite_url, tmp_path, server_env):
    redis = RedisServer(tmp_path / "redis", appendonly=persistence).start()
    env = {
        "HELIXDESK_DATABASE_URL": sqlite_url,
        "HELIXDESK_EVENT_BUS": "redis",
        "HELIXDESK_REDIS_URL": redis.url,
        "HELIXDESK_RATE_LIMIT_BACKEND": "memory",
        **server_env,
    }
    server = Server(env, log=tmp_path / "server.log").start()
    try:
        conv = _conversation(server)
        with _ws(server, conv) as ws:
            assert _post(server, conv, "what is my balance").status_code == 200
            assert {1, 2} <= set(_messages_until(ws, 2, timeout=15))
            # Redis restarts: without persistence the stream and every consumer group are gone;
            # with its append-only file, what was published during the restart is not.
            redis.kill()
            redis.start()
            started = time.monotonic()
            assert _post(server, conv, "I lost my card").status_code == 200
            got = _messages_until(ws, 4, timeout=20)
            recovered = time.monotonic() - started
            assert {3, 4} <= set(got), f"live messages after the restart: {sorted(got)}"
            assert recovered < 15
            # ... and it keeps working: the next message arrives at once.
            assert _post(server, conv, "thanks").status_code == 200
            assert 6 in _messages_until(ws, 6, timeout=10)
    finally:
        server.stop()
        redis.stop()
    log = (tmp_path / "server.log").read_text()
    if not persistence:
        assert "re-created" in log
    # No error loop: a missing group is noticed and fixed, not logged twice a second.
    assert log.count("NOGROUP") <= 3


@pytest.mark.redis
def test_groups_of_a_killed_process_are_removed_by_the_survivors(tmp_path):
    import asyncio

    from helixdesk.bus.redis_streams import EPHEMERAL, RedisStreamsEventBus

    redis = RedisServer(tmp_path / "redis").start()

    async def scenario() -> tuple[set[str], set[str]]:
        stream = f"helixdesk:test:{uuid.uuid4().hex}"

        async def ignore(_event: object) -> None:
            return None

        dead = RedisStreamsEventBus(url=redis.url, stream=stream, block_ms=100)
        await dead.subscribe("live-dead", ignore, ephemeral=True)
        await dead.start()
        await asyncio.sleep(0.3)
        # The process "dies": its tasks stop without `stop()`, so its group stays behind.
        dead._running = False
        for task in dead._tasks.values():
            task.cancel()
        alive = RedisStreamsEventBus(url=redis.url, stream=stream, block_ms=100, stale_group_seconds=1.0)
        await alive.subscribe("live-alive", ignore, ephemeral=True)
        await alive.start()
        groups_before = {g["name"] for g in await alive.redis.xinfo_groups(stream)}
        # The survivor's sweeper runs every second; a second later the dead group is silent for
        # longer than `stale_group_seconds`.
        await asyncio.sleep(2.5)
        groups_after = {g["name"] for g in await alive.redis.xinfo_groups(stream)}
        await alive.stop()
        await dead.stop()  # only closes its connections now
        return groups_before, groups_after

    try:
        before, after = asyncio.run(scenario())
    finally:
        redis.stop()
    assert before == {f"{EPHEMERAL}live-dead", f"{EPHEMERAL}live-alive"}
    assert after == {f"{EPHEMERAL}live-alive"}


# ---- shutdown ---------------------------------------------------------------------------------------


def _staff(database_url: str, username: str, roles: list[str]) -> StaffAccounts:
    engine = make_engine(database_url)
    staff = StaffAccounts(sessions=make_session_factory(engine))
    staff.create_user(
        username=username, password=PASSWORD, display_name=username, roles=roles, languages=["zh", "en"]
    )
    return staff


def _sign_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    sign_in(client, username, PASSWORD)
    return client


class _Stream(threading.Thread):
    """Reads a console event stream in the background and keeps its event names."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.events: list[str] = []
        self.ended_at: float | None = None
        self.open = threading.Event()

    def run(self) -> None:
        try:
            with self.client.stream("GET", "/console/api/events", timeout=60) as r:
                self.open.set()
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        self.events.append(line[7:])
        except httpx.HTTPError:
            pass
        finally:
            self.ended_at = time.monotonic()
            self.client.close()
            self.open.set()


def test_sigterm_with_open_streams_shuts_down_within_bounds(sqlite_url, tmp_path, server_env):
    _staff(sqlite_url, "agent.term", ["agent"])
    server = Server({"HELIXDESK_DATABASE_URL": sqlite_url, **server_env}, log=tmp_path / "server.log").start()
    try:
        streams = [_Stream(_sign_in(server.base, "agent.term")) for _ in range(3)]
        for stream in streams:
            stream.start()
            assert stream.open.wait(10)
        conv = _conversation(server)
        with _ws(server, conv) as ws:
            time.sleep(0.5)
            assert server.proc is not None
            began = time.monotonic()
            os.killpg(server.proc.pid, signal.SIGTERM)
            server.proc.wait(timeout=20)
            took = time.monotonic() - began
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=5)
    finally:
        server.stop()
    assert took <= 10, f"shutdown took {took:.1f} s"
    for stream in streams:
        stream.join(5)
        assert stream.events[-1:] == ["reconnect"], stream.events
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012  # service restart
    log = (tmp_path / "server.log").read_text()
    assert "timeout graceful shutdown exceeded" not in log  # the streams ended by themselves


# ---- revocation -------------------------------------------------------------------------------------


def test_revoking_a_key_or_disabling_an_agent_closes_their_connections(sqlite_url, tmp_path, server_env):
    staff = _staff(sqlite_url, "agent.gone", ["agent"])
    keys = ApiKeys(sessions=make_session_factory(make_engine(sqlite_url)))
    view, raw_key = keys.create(name="app", channel="app", scopes=["conversations"])
    server = Server({"HELIXDESK_DATABASE_URL": sqlite_url, **server_env}, log=tmp_path / "server.log").start()
    try:
        stream = _Stream(_sign_in(server.base, "agent.gone"))
        stream.start()
        assert stream.open.wait(10)
        headers = {"X-Api-Key": raw_key}
        conv = httpx.post(
            f"{server.base}/api/v1/conversations", json={"channel": "app"}, headers=headers
        ).json()
        url = server.base.replace("http", "ws") + f"/api/v1/conversations/{conv['id']}/ws"
        with connect(url, open_timeout=10, additional_headers=headers) as ws:
            ws.send(json.dumps({"type": "message", "text": "hello", "client_message_id": "before"}))
            assert 2 in _messages_until(ws, 2, timeout=15)
            keys.revoke(view.id)
            staff.set_disabled("agent.gone", True)
            revoked = time.monotonic()
            # A message sent after the revocation is not stored.
            with pytest.raises(ConnectionClosed) as closed:
                ws.send(json.dumps({"type": "message", "text": "after", "client_message_id": "after"}))
                while True:
                    ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert time.monotonic() - revoked < 8
        stream.join(10)
        assert stream.events[-1:] == ["signed_out"], stream.events
        assert stream.ended_at is not None and stream.ended_at - revoked < 8
    finally:
        server.stop()
    engine = make_engine(sqlite_url)
    with engine.connect() as c:
        texts = [row[0] for row in c.exec_driver_sql("SELECT text FROM messages WHERE sender = 'customer'")]
    assert texts == ["hello"]


# ---- PostgreSQL -------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("crash", [True, False], ids=["crash", "restart"])
def test_postgres_outage_gives_503_then_recovers_without_a_restart(crash, tmp_path, server_env):
    pg = PostgresServer().init().start()
    try:
        url = pg.migrated_database("helixdesk")
        server = Server({"HELIXDESK_DATABASE_URL": url, **server_env}, log=tmp_path / "server.log").start()
        try:
            conv = _conversation(server)
            assert _post(server, conv, "hello").status_code == 200
            if crash:
                pg.crash()
            else:
                pg.stop()
            r = _post(server, conv, "during the outage", within=0)
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "unavailable" and int(r.headers["Retry-After"]) > 0
            began = time.monotonic()
            pg.start()
            after = _post(server, conv, "after the restart", within=30)
            assert after.status_code == 200, after.text
            recovery = time.monotonic() - began
            messages = httpx.get(
                f"{server.base}/api/v1/conversations/{conv['id']}/messages",
                headers={"Authorization": f"Bearer {conv['token']}"},
            ).json()["messages"]
        finally:
            server.stop()
    finally:
        pg.remove()
    customer = [m["text"] for m in messages if m["sender"] == "customer"]
    assert customer == ["hello", "after the restart"]  # nothing half-stored from the outage
    assert recovery < 30


# ---- disk full --------------------------------------------------------------------------------------


def test_a_full_disk_gives_503_and_writes_resume_once_there_is_room(sqlite_template, tmp_path, server_env):
    """The SQLite database on a small file system of its own (tmpfs, mounted by the test as root)."""
    import shutil
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here (needs root): {mounted.stderr.decode().strip()}")
    try:
        shutil.copyfile(sqlite_template, disk / "helixdesk.db")
        env = {
            "HELIXDESK_DATABASE_URL": f"sqlite:///{disk / 'helixdesk.db'}",
            "HELIXDESK_SECRET_KEY": "d" * 40,
            "HELIXDESK_RATE_LIMIT_CONVERSATION_MESSAGES_PER_MINUTE": "0",
            **server_env,
        }
        server = Server(env, log=tmp_path / "server.log").start()
        try:
            conv = _conversation(server)
            url = f"{server.base}/api/v1/conversations/{conv['id']}/messages"
            auth = {"Authorization": f"Bearer {conv['token']}"}
            acknowledged: list[str] = []
            assert _post(server, conv, "hello").status_code == 200
            acknowledged.append("hello")
            filler = disk / "filler"
            # Take every free byte. Unbuffered: a buffered file would flush its unwritten tail again
            # on close, outside the suppress, and raise ENOSPC there.
            with filler.open("wb", buffering=0) as f, contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 65536)
            refused = None
            for i in range(300):
                text = f"message {i} while the disk is full"
                r = httpx.post(
                    url, json={"text": text, "client_message_id": f"full-{i}"}, headers=auth, timeout=30
                )
                assert r.status_code in (200, 503), r.text
                if r.status_code == 503:
                    refused = (i, text)
                    assert r.json()["error"]["code"] == "unavailable" and int(r.headers["Retry-After"]) > 0
                    break
                acknowledged.append(text)
            assert refused is not None, "the disk never filled up"
            filler.unlink()
            i, text = refused
            again = httpx.post(
                url, json={"text": text, "client_message_id": f"full-{i}"}, headers=auth, timeout=30
            )
            assert again.status_code == 200, again.text
            acknowledged.append(text)
            messages = httpx.get(url, headers=auth, params={"limit": 500}).json()["messages"]
        finally:
            server.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    customer = [m["text"] for m in messages if m["sender"] == "customer"]
    assert customer == acknowledged  # every acknowledged message once, in order; the refused one once
