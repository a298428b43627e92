"""Time from a handoff decision to the conversation appearing in an agent's console, with two workers.

Starts two `helixdesk serve` processes on PostgreSQL with the Redis Streams bus (worker A takes the
customers, worker B serves the agent's console), signs an agent in on B and listens to the
console's live events (`/console/api/events`), then hands conversations over on A one after another
and records, per handoff:

- decision → event: from sending the customer's "talk to a person" request on A (the handoff is
  decided, routed and committed inside it) to the `handoff.queued` event reaching the console on B;
- decision → in queue: the same, plus the console re-reading its queue (`GET /console/api/queue`),
  which is what the page does on each event, until the conversation is listed.

    .venv/bin/python bench/handoff_bench.py [--handoffs 200] [--runs 3]
      [--pg postgresql://root@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helixdesk.auth.service import StaffAccounts
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from tests.serverproc import Server

PASSWORD = "bench passphrase for one agent"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def sign_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    client.post("/console/login", data={"username": "bench.agent", "password": PASSWORD, "csrf_token": token})
    page = client.get("/console")
    client.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post("/console/api/presence", json={"presence": "online"})  # only people online claim
    return client


def listen(
    client: httpx.Client, seen: dict[str, float], ready: threading.Event, stop: threading.Event
) -> None:
    try:
        _listen(client, seen, ready, stop)
    except httpx.HTTPError:
        if not stop.is_set():
            raise


def _listen(
    client: httpx.Client, seen: dict[str, float], ready: threading.Event, stop: threading.Event
) -> None:
    with client.stream("GET", "/console/api/events", timeout=None) as response:
        event = ""
        for line in response.iter_lines():
            if not ready.is_set():
                ready.set()
            if stop.is_set():
                return
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "handoff.queued":
                payload = json.loads(line[5:])
                seen.setdefault(payload["conversation_id"], time.perf_counter())


def one_run(a: Server, b: Server, handoffs: int) -> dict[str, list[float]]:
    agent = sign_in(b.base)
    watcher = sign_in(b.base)
    seen: dict[str, float] = {}
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=listen, args=(watcher, seen, ready, stop), daemon=True)
    thread.start()
    ready.wait(10)
    to_event: list[float] = []
    to_queue: list[float] = []
    customer = httpx.Client(base_url=a.base, timeout=30)
    for _ in range(handoffs):
        conv = customer.post("/api/v1/conversations", json={"channel": "web"}).json()
        started = time.perf_counter()
        customer.post(
            f"/api/v1/conversations/{conv['id']}/handoff",
            headers={"Authorization": f"Bearer {conv['token']}"},
        )
        deadline = started + 5
        while conv["id"] not in seen and time.perf_counter() < deadline:
            time.sleep(0.0005)
        if conv["id"] not in seen:
            continue
        to_event.append((seen[conv["id"]] - started) * 1000)
        while time.perf_counter() < deadline:
            items = agent.get("/console/api/queue").json()["items"]
            if any(i["conversation_id"] == conv["id"] for i in items):
                to_queue.append((time.perf_counter() - started) * 1000)
                break
        # Keep the queue short, as agents would: claim it.
        agent.post("/console/api/claim-next")
        agent.post(
            f"/console/api/conversations/{conv['id']}/wrap-up",
            json={"disposition": "answered", "resolution": "resolved"},
        )
    stop.set()
    customer.close()
    agent.close()
    watcher.close()
    return {"event": to_event, "queue": to_queue}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--handoffs", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--pg", default=os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test")
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--model-dir", default=os.environ.get("HELIXDESK_MODEL_DIR", "var/models"))
    args = parser.parse_args()

    name = f"helixdesk_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    engine = make_engine(url)
    upgrade_engine(engine)
    StaffAccounts(sessions=make_session_factory(engine)).create_user(
        username="bench.agent", password=PASSWORD, display_name="Bench", roles=["agent"], max_concurrent=20
    )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_EVENT_BUS": "redis",
        "HELIXDESK_REDIS_URL": args.redis,
        "HELIXDESK_REDIS_STREAM": f"helixdesk:bench:{uuid.uuid4().hex[:8]}",
        "HELIXDESK_SECRET_KEY": "b" * 32,
        "HELIXDESK_MODEL_DIR": str(Path(args.model_dir).resolve()),
        "HELIXDESK_LOG_LEVEL": "warning",
        # One client makes hundreds of calls a minute here: the abuse limits would throttle it.
        "HELIXDESK_RATE_LIMIT_IP_PER_MINUTE": "0",
        "HELIXDESK_RATE_LIMIT_CONVERSATION_MESSAGES_PER_MINUTE": "0",
    }
    logs = Path(tempfile.mkdtemp())
    a = Server(env, log=logs / "a.log").start()
    b = Server(env, log=logs / "b.log").start()
    try:
        results = [one_run(a, b, args.handoffs) for _ in range(args.runs)]
    finally:
        a.stop()
        b.stop()
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"handoff decision → agent console, two workers (PostgreSQL + Redis Streams), {args.handoffs} handoffs × {args.runs} runs"
    )
    print(f"{'measure':<34}{'p50 ms':>10}{'p99 ms':>10}{'seen':>8}")
    for key, label in (
        ("event", "decision → live event in console"),
        ("queue", "decision → listed in console queue"),
    ):
        p50 = statistics.median(statistics.median(r[key]) for r in results)
        p99 = statistics.median(pct(r[key], 99) for r in results)
        seen = sum(len(r[key]) for r in results)
        print(f"{label:<34}{p50:>10.1f}{p99:>10.1f}{seen:>8}")
    print("(medians over runs of each run's p50 and p99)")


if __name__ == "__main__":
    main()
