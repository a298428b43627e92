"""20 agents claim from a queue of 50 conversations at once, through two server processes on
PostgreSQL and Redis: every conversation is claimed exactly once, nobody exceeds their capacity."""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from helixdesk.auth.service import StaffAccounts
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.handoff.models import Handoff
from tests.conftest import _truncate_pg
from tests.serverproc import Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

AGENTS = 20
CONVERSATIONS = 50
CAPACITY = 3
PASSWORD = "correct horse battery staple"


def sign_in(base: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = client.post(
        "/console/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/console"},
    )
    assert r.status_code == 303, r.text
    page = client.get("/console")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    client.headers["X-CSRF-Token"] = csrf
    assert client.post("/console/api/presence", json={"presence": "online"}).status_code == 200
    return client, csrf


def test_every_conversation_is_claimed_exactly_once(pg_database, tmp_path, server_env):
    engine = make_engine(pg_database)
    _truncate_pg(engine)
    staff = StaffAccounts(sessions=make_session_factory(engine))
    for i in range(AGENTS):
        staff.create_user(
            username=f"agent.{i:02d}",
            password=PASSWORD,
            display_name=f"Agent {i}",
            roles=["agent"],
            languages=["zh", "en"],
            max_concurrent=CAPACITY,
        )
    env = {
        "HELIXDESK_DATABASE_URL": pg_database,
        "HELIXDESK_EVENT_BUS": "redis",
        "HELIXDESK_REDIS_STREAM": f"helixdesk:test:{uuid.uuid4().hex}",
        "HELIXDESK_SECRET_KEY": "k" * 32,
        **server_env,
    }
    a = Server(env, log=tmp_path / "a.log").start()
    b = Server(env, log=tmp_path / "b.log").start()
    try:
        for _ in range(CONVERSATIONS):
            conv = httpx.post(f"{a.base}/api/v1/conversations", json={"channel": "web"}).json()
            r = httpx.post(
                f"{b.base}/api/v1/conversations/{conv['id']}/handoff",
                headers={"Authorization": f"Bearer {conv['token']}"},
            )
            assert r.json()["state"] == "waiting_for_agent"
        clients = [sign_in((a if i % 2 else b).base, f"agent.{i:02d}")[0] for i in range(AGENTS)]

        claimed: list[tuple[str, str]] = []
        refusals: Counter[str] = Counter()
        lock = threading.Lock()
        start = threading.Barrier(AGENTS)

        def work(index: int) -> None:
            client = clients[index]
            start.wait()
            while True:
                r = client.post("/console/api/claim-next")
                if r.status_code == 200:
                    with lock:
                        claimed.append((r.json()["conversation_id"], f"agent.{index:02d}"))
                    continue
                code = r.json()["error"]["code"]
                with lock:
                    refusals[code] += 1
                assert code in ("queue_empty", "agent_at_capacity"), r.text
                return

        threads = [threading.Thread(target=work, args=(i,)) for i in range(AGENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        assert not any(t.is_alive() for t in threads)
        for c in clients:
            c.close()
    finally:
        a.stop()
        b.stop()

    conversations = [c for c, _ in claimed]
    assert len(conversations) == CONVERSATIONS
    assert len(set(conversations)) == CONVERSATIONS  # nobody got a conversation someone else had
    per_agent = Counter(agent for _, agent in claimed)
    assert max(per_agent.values()) <= CAPACITY
    with make_session_factory(engine)() as s:
        rows = s.execute(select(Handoff.conversation_id, Handoff.status, Handoff.agent_id)).all()
    engine.dispose()
    assert len(rows) == CONVERSATIONS
    assert {status for _, status, _ in rows} == {"active"}
    assert Counter(conv for conv, _, _ in rows).most_common(1)[0][1] == 1
    assert set(conversations) == {conv for conv, _, _ in rows}
