"""An event stored with its change reaches the bus even when the process dies before publishing it.

Real processes throughout: the server, and a Redis of the test's own. Redis is stopped, so the
server commits a turn (the customer is answered: the turn does not need the bus) but cannot publish
its events; the server is then killed with SIGKILL. After Redis and the server come back, the
events are on the stream, in order, with their place in the log.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
import redis
from sqlalchemy import select

from helixdesk.bus.outbox import EventRecord
from helixdesk.db.session import make_engine, make_session_factory
from tests.redisproc import RedisServer
from tests.serverproc import Server

pytestmark = [pytest.mark.redis, pytest.mark.slow]

STREAM = "helixdesk:test-outbox"


def _events(port: int) -> list[dict]:
    entries = redis.Redis(port=port, decode_responses=True).xrange(STREAM)
    return [json.loads(fields["event"]) for _, fields in entries]


def test_events_committed_before_a_crash_are_published_after_the_restart(sqlite_url, tmp_path, server_env):
    bus = RedisServer(tmp_path / "redis").start()
    env = {
        **server_env,
        "HELIXDESK_DATABASE_URL": sqlite_url,
        "HELIXDESK_EVENT_BUS": "redis",
        "HELIXDESK_REDIS_URL": bus.url,
        "HELIXDESK_REDIS_STREAM": STREAM,
        "HELIXDESK_RATE_LIMIT_BACKEND": "memory",
    }
    server = Server(env, log=tmp_path / "server.log").start()
    try:
        conv = httpx.post(
            f"{server.base}/api/v1/conversations", json={"channel": "web", "language": "en"}
        ).json()
        bus.kill()  # from here on nothing can be published
        r = httpx.post(
            f"{server.base}/api/v1/conversations/{conv['id']}/messages",
            json={"text": "hello, are you open on Sunday?"},
            headers={"Authorization": f"Bearer {conv['token']}"},
            timeout=30,
        )
        assert r.status_code == 200 and r.json()["replies"]
    finally:
        server.kill()
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as s:
        waiting = s.scalars(
            select(EventRecord.type)
            .where(EventRecord.conversation_id == conv["id"], EventRecord.published_at.is_(None))
            .order_by(EventRecord.position)
        ).all()
    assert "message.received" in waiting and "reply.sent" in waiting

    bus = RedisServer(tmp_path / "redis", port=bus.port).start()
    server = Server(env, log=tmp_path / "server.log").start()
    try:
        deadline = time.monotonic() + 30
        mine: list[dict] = []
        while time.monotonic() < deadline:
            mine = [e for e in _events(bus.port) if e["conversation_id"] == conv["id"]]
            if any(e["type"] == "reply.sent" for e in mine):
                break
            time.sleep(0.05)
        types = [e["type"] for e in mine]
        # Every event that was waiting is on the stream, in log order. (`conversation.created` may
        # have been published before Redis was killed; this Redis keeps nothing across a restart.)
        assert [t for t in types if t in waiting] == list(waiting), (types, waiting)
        seqs = [e["log_seq"] for e in mine]
        assert all(isinstance(n, int) for n in seqs) and seqs == sorted(seqs)
        with make_session_factory(engine)() as s:
            left = s.scalars(select(EventRecord.type).where(EventRecord.published_at.is_(None))).all()
        assert left == []
    finally:
        server.stop()
        bus.stop()
        engine.dispose()
