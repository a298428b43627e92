"""Chat turns under load, rate limits off: closed loops (each client in its own conversation, the
next message as soon as the reply came), or open loops (`--rate`: messages arriving at a steady
rate, as customers' do, whatever the replies take).

    .venv/bin/python bench/turn_bench.py                                  # SQLite, one worker
    .venv/bin/python bench/turn_bench.py --db postgresql --workers 2 --clients 32
    .venv/bin/python bench/turn_bench.py --compare 07e0bbf                # also an older commit, same run
    .venv/bin/python bench/turn_bench.py --quality both                   # quality monitoring on and off
    .venv/bin/python bench/turn_bench.py --quality both --clients --rate 40   # 40 turns/s arriving
    .venv/bin/python bench/turn_bench.py --insight both --clients 1 8 --rate 30   # insight on and off

Every client starts an anonymous web conversation and sends the pack's held-out messages (850
distinct sentences in zh-Hans, zh-Hant and English, none of them in training) one after the other,
each as soon as the reply to the last one arrived. When the bot hands its conversation to a person,
the client starts a new one, so every turn measured is a bot turn: the message stored, understood,
answered and the reply stored. Figures are medians over `--runs` runs.

Each server gets a fresh database: a SQLite file, or a database of its own on the PostgreSQL server
at `--pg-admin` (dropped afterwards). Several workers share events through a Redis server the bench
starts itself on a free port. `--compare REV` checks REV out into a temporary worktree and measures
it in the same run, with the same models and messages, alternating old and new. `--quality both`
measures this tree with quality monitoring on (`helixdesk qa run` beside the server, as `serve`
starts it) and off, alternating, and reports how many of the conversations the QA consumer had
scored by the end of each run and how long after the load stopped it had scored them all.
`--insight both` does the same with insight (`helixdesk insight run` beside the server, as `serve`
starts it when `insight_worker` is on: the `insight` consumer, the e5 embedder at idle priority and
the daily mining run) and reports how many of the customer messages had an insight row with its
vector by the end of each run, and how long after the load stopped every row had its vector. The
default `--insight off` keeps the runs comparable with the figures before it (the test server
starts with insight off unless asked).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database, worktree  # noqa: E402

from tests.serverproc import Server, free_port  # noqa: E402

HELDOUT = ROOT / "src/helixdesk/packs/retail_bank/nlu/heldout/intents.jsonl"


def messages() -> list[str]:
    return [json.loads(line)["text"] for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def new_conversation(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """An anonymous web conversation: where to send its messages, and its token."""
    conv = (await client.post("/api/v1/conversations", json={"channel": "web"})).json()
    return f"/api/v1/conversations/{conv['id']}/messages", {"Authorization": f"Bearer {conv['token']}"}


async def send(client: httpx.AsyncClient, url: str, auth: dict[str, str], text: str) -> str | None:
    """One turn: the conversation's state after it, or None when it failed."""
    body = {"text": text, "client_message_id": uuid.uuid4().hex}
    try:
        r = await client.post(url, json=body, headers=auth)
    except httpx.HTTPError:
        return None
    return str(r.json()["state"]) if r.status_code == 200 else None


def summary(latencies: list[float], errors: int, elapsed: float) -> dict[str, float]:
    return {
        "turns": len(latencies),
        "turns_s": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": pct(latencies, 99),
        "errors": errors,
    }


async def load(base: str, clients: int, seconds: float, texts: list[str]) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker(w: int) -> None:
            nonlocal errors
            url, auth = await new_conversation(client)
            i = w * 97
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                state = await send(client, url, auth, texts[i % len(texts)])
                i += 1
                latencies.append((time.perf_counter() - began) * 1000)
                if state is None:
                    errors += 1
                elif state != "bot":
                    url, auth = await new_conversation(client)

        began = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(clients)))
        elapsed = time.perf_counter() - began
    return summary(latencies, errors, elapsed)


async def load_open(
    base: str, rate: float, seconds: float, texts: list[str], seed: int = 0
) -> dict[str, float]:
    """Open loop: turns arrive at `rate` a second (Poisson), whatever the replies take, each in a
    conversation not waiting for a reply (a new one when none is free). A turn's latency runs from
    its arrival, so waiting to be served counts."""
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = 0
    free: list[tuple[str, dict[str, str]]] = []
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def turn(arrived: float, i: int) -> None:
            nonlocal errors
            try:
                url, auth = free.pop() if free else await new_conversation(client)
            except httpx.HTTPError:
                url, auth = "", {}
            state = await send(client, url, auth, texts[(i * 97) % len(texts)]) if url else None
            latencies.append((time.perf_counter() - arrived) * 1000)
            if state is None:
                errors += 1
            elif state == "bot":
                free.append((url, auth))

        began = time.perf_counter()
        arrival, i, tasks = began, 0, []
        while arrival < began + seconds:
            await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
            tasks.append(asyncio.create_task(turn(arrival, i)))
            i += 1
            arrival += rng.expovariate(rate)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return summary(latencies, errors, elapsed)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def serve(
    src: Path,
    url: str,
    args: argparse.Namespace,
    redis: str | None,
    log: Path,
    quality: bool = True,
    insight: bool = False,
) -> Server:
    env = {
        "HELIXDESK_QUALITY_WORKER": "true" if quality else "false",
        "HELIXDESK_INSIGHT_WORKER": "true" if insight else "false",
        "PYTHONPATH": str(src),
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(Path(args.model_dir).resolve()),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_SECRET_KEY": "b" * 40,
        "HELIXDESK_RATE_LIMIT_IP_PER_MINUTE": "0",
        "HELIXDESK_RATE_LIMIT_CONVERSATION_MESSAGES_PER_MINUTE": "0",
    }
    if redis:
        env |= {"HELIXDESK_EVENT_BUS": "redis", "HELIXDESK_REDIS_URL": redis}
    return Server(env, workers=args.workers, log=log).start(timeout=180)


def measure(
    label: str,
    src: Path,
    args: argparse.Namespace,
    texts: list[str],
    tmp: Path,
    quality: bool = True,
    insight: bool = False,
) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {point: [] for point in points(args)}
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(redis_server()) if args.workers > 1 else None
        url = stack.enter_context(database(args.db, tmp, args.pg_admin))
        server = serve(src, url, args, redis, tmp / f"{label}.log", quality=quality, insight=insight)
        stack.callback(server.stop)
        asyncio.run(load(server.base, 4, 3, texts))  # warm-up
        if quality:
            scored(url)  # steady state: the QA process has started, loaded its models and caught up
        if insight:
            # steady state: started, models loaded, caught up, first run mined
            before = embedded(url, settle=True)
        for point in results:
            if point.endswith("/s"):
                found = asyncio.run(load_open(server.base, float(point[:-2]), args.seconds, texts))
            else:
                found = asyncio.run(load(server.base, int(point), args.seconds, texts))
            if quality and args.quality != "on":
                found |= scored(url)
            if insight:
                before = embedded(url, before=before)
                found |= {k: v for k, v in before.items() if not k.startswith("_")}
            results[point].append(found)
    return results


def points(args: argparse.Namespace) -> list[str]:
    """The loads to measure: closed loops of N clients ("8"), open loops of R turns/s ("40/s")."""
    return [str(c) for c in args.clients] + [f"{r:g}/s" for r in args.rate]


def scored(url: str, limit: float = 120.0) -> dict[str, float]:
    """Conversations scored by quality monitoring at the end of the run (%), and the seconds after
    the load stopped until every stored conversation was scored (the consumer's catch-up)."""
    from sqlalchemy import create_engine, func, select

    from helixdesk.conversations.models import Conversation
    from helixdesk.quality.models import Scorecard

    engine = create_engine(url)
    try:
        out: dict[str, float] = {}
        started = time.perf_counter()
        while True:
            with engine.connect() as conn:
                total = conn.scalar(select(func.count()).select_from(Conversation)) or 0
                done = conn.scalar(select(func.count()).select_from(Scorecard)) or 0
            waited = time.perf_counter() - started
            out.setdefault("scored_now", 100.0 * done / max(1, total))
            if done >= total or waited >= limit:
                out["catch_up_s"] = waited if done >= total else float("inf")
                return out
            time.sleep(0.25)
    finally:
        engine.dispose()


def embedded(
    url: str, limit: float = 180.0, settle: bool = False, before: dict[str, float] | None = None
) -> dict[str, float]:
    """Of the customer messages stored since `before` (the counts an earlier call returned, when
    everything was caught up: the warm-up's and earlier loads' messages do not count), the share
    with an insight row that had its vector when the load stopped, and the seconds after that until
    the `insight` consumer had read the whole event log and every row had its vector (the
    embedder's catch-up); also the share that became rows at all. `settle` also waits for the first
    mining run once there are enough rows (so none runs during the load)."""
    from sqlalchemy import create_engine, func, select

    from helixdesk.bus.consumer import ConsumerOffset
    from helixdesk.bus.outbox import EventRecord
    from helixdesk.conversations.models import Message
    from helixdesk.insight.mining import MIN_ROWS
    from helixdesk.insight.models import InsightMessage, InsightRun

    engine = create_engine(url)
    try:
        out: dict[str, float] = {}
        started = time.perf_counter()
        while True:
            with engine.connect() as conn:
                customer = (
                    conn.scalar(select(func.count()).select_from(Message).where(Message.sender == "customer"))
                    or 0
                )
                rows = conn.scalar(select(func.count()).select_from(InsightMessage)) or 0
                vectors = (
                    conn.scalar(
                        select(func.count())
                        .select_from(InsightMessage)
                        .where(InsightMessage.vector.is_not(None))
                    )
                    or 0
                )
                offset = (
                    conn.scalar(select(ConsumerOffset.log_seq).where(ConsumerOffset.consumer == "insight"))
                    or 0
                )
                last = conn.scalar(select(func.max(EventRecord.log_seq))) or 0
                runs = conn.scalar(select(func.count()).select_from(InsightRun)) or 0
            waited = time.perf_counter() - started
            base = before or {"_customer": 0, "_rows": 0, "_vectors": 0}
            new = max(1, customer - base["_customer"])
            out.setdefault("vector_now", 100.0 * (vectors - base["_vectors"]) / new)
            done = offset >= last and vectors >= rows
            if settle:
                done = done and (runs > 0 or vectors < MIN_ROWS)
            if done or waited >= limit:
                out["rows_of_customer"] = 100.0 * (rows - base["_rows"]) / new
                out |= {"_customer": customer, "_rows": rows, "_vectors": vectors}
                out["embed_catch_up_s"] = waited if done else float("inf")
                return out
            time.sleep(0.25)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--clients", type=int, nargs="*", default=[8], help="closed loops of this many clients"
    )
    parser.add_argument(
        "--rate", type=float, nargs="*", default=[], help="open loops: turns arriving at this many a second"
    )
    parser.add_argument("--seconds", type=float, default=15, help="length of each measured run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", metavar="REV", help="also measure this commit, in the same run")
    parser.add_argument("--model-dir", default="var/models")
    parser.add_argument(
        "--quality",
        choices=["on", "off", "both"],
        default="on",
        help="quality monitoring beside the server: on (as shipped), off, or both in the same run",
    )
    parser.add_argument(
        "--insight",
        choices=["on", "off", "both"],
        default="off",
        help="insight beside the server (shipped on; the bench's default is off, as before): on, off, or both",
    )
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    if not (Path(args.model_dir) / "retail_bank").is_dir():
        sys.exit(f"no trained models in {args.model_dir}: run `helixdesk nlu train` first")
    texts = messages()
    with tempfile.TemporaryDirectory() as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        qualities = {"QA off": False, "QA on": True} if args.quality == "both" else {"": args.quality == "on"}
        insights = (
            {"ins off": False, "ins on": True} if args.insight == "both" else {"": args.insight == "on"}
        )
        trees: dict[str, tuple[Path, bool, bool]] = {}
        for q_label, quality in qualities.items():
            for i_label, insight in insights.items():
                label = " ".join(x for x in (q_label, i_label) if x) or "this tree"
                trees[label] = (ROOT / "src", quality, insight)
        if args.compare:
            old = stack.enter_context(worktree(args.compare)) / "src"
            trees = {args.compare: (old, True, args.insight == "on"), **trees}
        table: dict[str, dict[str, list[dict[str, float]]]] = {
            label: {point: [] for point in points(args)} for label in trees
        }
        for run in range(args.runs):
            for label, (src, quality, insight) in trees.items():
                for point, found in measure(
                    f"{run}-{label.replace(' ', '_')}",
                    src,
                    args,
                    texts,
                    tmp,
                    quality=quality,
                    insight=insight,
                ).items():
                    table[label][point] += found
        print(
            f"chat turns, {args.db}, {args.workers} worker(s), {len(texts)} distinct messages, "
            f"{args.seconds:.0f} s a run, medians of {args.runs} runs"
        )
        print(
            f"uptime at the end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
        )
        print(f"{'code':>14} {'load':>8} {'turns/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for label, by_point in table.items():
            for point, runs in by_point.items():
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                errors = int(sum(r["errors"] for r in runs))
                line = f"{label[:14]:>14} {point:>8} {med['turns_s']:>8.0f} {med['p50']:>8.1f} {med['p99']:>8.1f} {errors:>7}"
                if "scored_now" in med:
                    line += f"   scored by QA: {med['scored_now']:.0f} % at the end, all {med['catch_up_s']:.1f} s later"
                if "vector_now" in med:
                    line += (
                        f"   insight: {med['vector_now']:.0f} % of customer messages embedded at the end,"
                        f" all rows ({med['rows_of_customer']:.0f} %) {med['embed_catch_up_s']:.1f} s later"
                    )
                print(line)


if __name__ == "__main__":
    main()
