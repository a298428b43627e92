"""Faults injected into a running server: how long the service is unavailable, and how long it takes
to recover once the fault is gone.

    .venv/bin/python bench/fault_bench.py              # every fault, 3 runs, medians
    .venv/bin/python bench/fault_bench.py --runs 1 --only pg_crash redis_restart

Faults (each on a fresh server and database; Redis and PostgreSQL are the bench's own, on free ports):
- `redis_restart`: Redis killed and started again without its data, under a customer socket.
  Unavailable: how long posting a message failed (0: the API does not need Redis). Recovery: from
  Redis being back to the reply of a message posted then arriving on the socket (live delivery).
- `redis_restart_aof`: the same with Redis's append-only file on.
- `pg_crash`: PostgreSQL killed (SIGKILL, no checkpoint) while a client posts every 50 ms, started
  again 2 s later. Unavailable: from the first refused post to the next accepted one. Recovery: from
  PostgreSQL accepting connections to the next accepted post.
- `pg_restart`: the same with a clean shutdown (`pg_ctl stop -m fast`).
- `sigterm`: SIGTERM to a server with three open console streams and a customer socket.
  Unavailable: not measured (a rolling restart sends clients to other workers). Recovery: how long
  the server took to exit.
- `worker_kill`: the server killed with SIGKILL and started again. Unavailable: until it answers.
- `nats_leader_kill`: a three-node JetStream cluster of the bench's own; the stream's leader killed
  (SIGKILL) while 600 events are published. Unavailable: the longest wait for a publish to be
  stored. Recovery: from the kill to the next stored event. `lost`: events the stream lacks.

Every fault also checks that no acknowledged message was lost or stored twice (`lost`, `dup`).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helixdesk.auth.service import StaffAccounts  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory  # noqa: E402
from tests.console_login import sign_in  # noqa: E402
from tests.natsproc import NatsCluster  # noqa: E402
from tests.pgproc import PostgresServer  # noqa: E402
from tests.redisproc import RedisServer  # noqa: E402
from tests.serverproc import Server  # noqa: E402

PASSWORD = "bench passphrase 12"


class Poster:
    """Posts a customer message every `every` seconds; remembers what was acknowledged."""

    def __init__(self, server: Server, every: float = 0.05) -> None:
        self.server = server
        self.every = every
        conv = httpx.post(
            f"{server.base}/api/v1/conversations", json={"channel": "web", "language": "en"}
        ).json()
        self.url = f"{server.base}/api/v1/conversations/{conv['id']}/messages"
        self.auth = {"Authorization": f"Bearer {conv['token']}"}
        self.outcomes: list[tuple[float, bool]] = []
        self.acknowledged: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                text = f"balance please {i}"
                try:
                    r = client.post(
                        self.url, json={"text": text, "client_message_id": f"m-{i}"}, headers=self.auth
                    )
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.outcomes.append((time.monotonic(), ok))
                if ok:
                    self.acknowledged.append(text)
                    i += 1
                time.sleep(self.every)

    def __enter__(self) -> Poster:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def window(self) -> float:
        """Seconds from the first refused post to the next accepted one (0 if none was refused)."""
        first_fail = next((t for t, ok in self.outcomes if not ok), None)
        if first_fail is None:
            return 0.0
        back = next((t for t, ok in self.outcomes if ok and t > first_fail), None)
        return (back or time.monotonic()) - first_fail

    def first_ok_after(self, moment: float) -> float | None:
        return next((t for t, ok in self.outcomes if ok and t > moment), None)

    def outcome(self, recovered_at: float | None, since: float) -> dict[str, float]:
        """The fault's figures: unavailability, recovery from `since`, lost and duplicated."""
        lost, dup = self.check()
        return {
            "unavailable": self.window(),
            "recovery": (recovered_at - since) if recovered_at else float("nan"),
            "lost": lost,
            "dup": dup,
        }

    def check(self) -> tuple[int, int]:
        stored = [
            m["text"]
            for m in httpx.get(self.url, headers=self.auth, params={"limit": 500}).json()["messages"]
            if m["sender"] == "customer"
        ]
        lost = len([t for t in self.acknowledged if t not in stored])
        dup = len(stored) - len(set(stored))
        return lost, dup


def _env(url: str, **extra: str) -> dict[str, str]:
    return {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str((ROOT / "var/models").resolve()),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_SECRET_KEY": "b" * 40,
        "HELIXDESK_RATE_LIMIT_IP_PER_MINUTE": "0",
        "HELIXDESK_RATE_LIMIT_CONVERSATION_MESSAGES_PER_MINUTE": "0",
        **extra,
    }


def _sqlite(tmp: Path) -> str:
    url = f"sqlite:///{tmp / f'f-{uuid.uuid4().hex[:6]}.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    return url


def redis_restart(tmp: Path, *, aof: bool = False) -> dict[str, float]:
    redis = RedisServer(tmp / f"redis-{uuid.uuid4().hex[:6]}", appendonly=aof).start()
    server = Server(
        _env(_sqlite(tmp), HELIXDESK_EVENT_BUS="redis", HELIXDESK_REDIS_URL=redis.url), log=tmp / "r.log"
    )
    server.start(timeout=180)
    try:
        with Poster(server, every=0.1) as poster:
            ws_url = server.base.replace("http", "ws") + poster.url.split(server.base)[1].replace(
                "/messages", "/ws"
            )
            with connect(ws_url + "?token=" + poster.auth["Authorization"][7:], open_timeout=10) as ws:
                time.sleep(1)
                redis.kill()
                time.sleep(1)
                redis.start()
                back = time.monotonic()
                r = httpx.post(
                    poster.url, json={"text": "after the restart"}, headers=poster.auth, timeout=30
                )
                reply_seq = max(
                    m["seq"] for m in [r.json()["message"], *[x["message"] for x in r.json()["replies"]]]
                )
                arrived = None
                deadline = time.monotonic() + 30
                while arrived is None and time.monotonic() < deadline:
                    frame = json.loads(ws.recv(timeout=30))
                    if frame["type"] == "message" and frame["message"]["seq"] >= reply_seq:
                        arrived = time.monotonic()
            time.sleep(0.5)
        return poster.outcome(arrived, back)
    finally:
        server.stop()
        redis.stop()


def postgres(tmp: Path, *, crash: bool) -> dict[str, float]:
    pg = PostgresServer().init().start()
    try:
        url = pg.migrated_database("helixdesk")
        server = Server(_env(url), log=tmp / "p.log").start(timeout=180)
        try:
            with Poster(server) as poster:
                time.sleep(1)
                pg.crash() if crash else pg.stop()
                time.sleep(2)
                pg.start()
                back = time.monotonic()
                deadline = time.monotonic() + 60
                while poster.first_ok_after(back) is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(0.5)
            return poster.outcome(poster.first_ok_after(back), back)
        finally:
            server.stop()
    finally:
        pg.remove()


def sigterm(tmp: Path) -> dict[str, float]:
    url = _sqlite(tmp)
    StaffAccounts(sessions=make_session_factory(make_engine(url))).create_user(
        username="bench.agent", password=PASSWORD, display_name="Bench", roles=["agent"]
    )
    server = Server(_env(url), log=tmp / "s.log").start(timeout=180)
    streams = []
    try:
        for _ in range(3):
            client = httpx.Client(base_url=server.base, timeout=30)
            sign_in(client, "bench.agent", PASSWORD)
            stream = client.stream("GET", "/console/api/events", timeout=60)
            stream.__enter__()
            streams.append((client, stream))
        with Poster(server, every=0.1):
            time.sleep(1)
            assert server.proc is not None
            began = time.monotonic()
            os.killpg(server.proc.pid, signal.SIGTERM)
            server.proc.wait(timeout=60)
            took = time.monotonic() - began
        return {"unavailable": float("nan"), "recovery": took, "lost": 0, "dup": 0}
    finally:
        for client, stream in streams:
            with contextlib.suppress(Exception):
                stream.__exit__(None, None, None)
            client.close()
        server.stop()


def worker_kill(tmp: Path) -> dict[str, float]:
    url = _sqlite(tmp)
    server = Server(_env(url), log=tmp / "k.log").start(timeout=180)
    with Poster(server) as poster:
        time.sleep(1)
        server.kill()
        began = time.monotonic()
        server.start(timeout=180)  # the same port: the client's address does not change
        deadline = time.monotonic() + 60
        while poster.first_ok_after(began) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    try:
        return poster.outcome(poster.first_ok_after(began), began)
    finally:
        server.stop()


def nats_leader_kill(tmp: Path) -> dict[str, float]:
    """A three-node JetStream cluster; its stream leader killed while events are published."""
    import asyncio

    from helixdesk.bus.nats_jetstream import NatsJetStreamEventBus
    from helixdesk.core.events import ConversationStateChanged

    cluster = NatsCluster(tmp / f"nats-{uuid.uuid4().hex[:6]}").start()

    async def run() -> dict[str, float]:
        name = f"BENCH_{uuid.uuid4().hex[:8]}"
        bus = NatsJetStreamEventBus(
            servers=cluster.urls, stream=name, subject=f"{name.lower()}.e", replicas=3
        )
        await bus.connect()
        acked: list[float] = []
        killed_at = 0.0
        try:
            for n in range(600):
                if n == 200:
                    info = await bus._js.stream_info(name)
                    cluster.node(info.cluster.leader).kill()
                    killed_at = time.monotonic()
                await bus.publish(
                    ConversationStateChanged(conversation_id=f"c{n % 10}", old_state="a", new_state="b")
                )
                acked.append(time.monotonic())
            count = (await bus._js.stream_info(name)).state.messages
        finally:
            await bus.close()
        gaps = [b - a for a, b in itertools.pairwise(acked)]
        first_after = next(t for t in acked if t > killed_at)
        return {"unavailable": max(gaps), "recovery": first_after - killed_at, "lost": 600 - count, "dup": 0}

    try:
        return asyncio.run(run())
    finally:
        cluster.stop()


FAULTS: dict[str, Callable[[Path], dict[str, float]]] = {
    "redis_restart": redis_restart,
    "redis_restart_aof": lambda tmp: redis_restart(tmp, aof=True),
    "pg_crash": lambda tmp: postgres(tmp, crash=True),
    "pg_restart": lambda tmp: postgres(tmp, crash=False),
    "sigterm": sigterm,
    "worker_kill": worker_kill,
    "nats_leader_kill": nats_leader_kill,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=sorted(FAULTS), default=list(FAULTS))
    args = parser.parse_args()
    if not (ROOT / "var/models/retail_bank").is_dir():
        sys.exit("no trained models in var/models: run `helixdesk nlu train` first")
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in args.only}
    with tempfile.TemporaryDirectory() as tmp_name:
        for run in range(args.runs):
            for name in args.only:
                result = FAULTS[name](Path(tmp_name))
                rows[name].append(result)
                print(f"  run {run + 1}/{args.runs} {name:18} {json.dumps(result)}", flush=True)
    print(f"\nfaults, medians of {args.runs} run(s); seconds")
    print(f"{'fault':18} {'unavailable':>12} {'recovery':>9} {'lost':>5} {'dup':>5}")
    for name, results in rows.items():

        def med(key: str, results: list[dict[str, float]] = results) -> float:
            return statistics.median(r[key] for r in results)

        lost = sum(r["lost"] for r in results)
        dup = sum(r["dup"] for r in results)
        print(f"{name:18} {med('unavailable'):12.2f} {med('recovery'):9.2f} {lost:5.0f} {dup:5.0f}")


if __name__ == "__main__":
    main()
