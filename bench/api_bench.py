"""Latency and throughput of `POST /api/v1/conversations/{id}/messages` at several concurrencies.

By default starts its own server on a fresh SQLite database (the embedded default) and stops it
afterwards; `--url` measures a server that is already running instead.

    .venv/bin/python bench/api_bench.py [--requests 400] [--concurrency 1 8 32] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.serverproc import Server

TEXTS = [
    "你好，我想查一下信用卡账单",
    "My transfer from yesterday hasn't arrived",
    "信用卡的还款日是哪一天",
    "What is the exchange rate for USD today?",
    "我想提前还分期，要多少手续费",
    "請問最近的分行幾點開門",
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def run_level(base: str, concurrency: int, total: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    per_worker = max(1, total // concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(w: int) -> None:
            nonlocal errors
            conv = (await client.post("/api/v1/conversations", json={"channel": "web"})).json()
            url = f"/api/v1/conversations/{conv['id']}/messages"
            auth = {"Authorization": f"Bearer {conv['token']}"}
            for i in range(per_worker):
                body = {"text": TEXTS[(w + i) % len(TEXTS)], "client_message_id": uuid.uuid4().hex}
                start = time.perf_counter()
                try:
                    r = await client.post(url, json=body, headers=auth)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - start) * 1000)
                errors += 0 if ok else 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "p50": statistics.median(latencies),
        "p99": pct(latencies, 99),
        "rps": len(latencies) / elapsed,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="measure this running server instead of starting one")
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level and run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--runs", type=int, default=3, help="runs per level; the table shows medians")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (own server only)")
    parser.add_argument(
        "--model-dir",
        default="var/models",
        help="trained NLU models for the own server (helixdesk nlu train)",
    )
    args = parser.parse_args()

    server = None
    tmp = tempfile.TemporaryDirectory()
    base = args.url
    if base is None:
        db = Path(tmp.name) / "bench.db"
        server = Server(
            {
                "HELIXDESK_DATABASE_URL": f"sqlite:///{db}",
                "HELIXDESK_LOG_LEVEL": "warning",
                "HELIXDESK_MODEL_DIR": str(Path(args.model_dir).resolve()),
                # Load generation from one address, many messages per conversation: no abuse limits.
                "HELIXDESK_RATE_LIMIT_IP_PER_MINUTE": "0",
                "HELIXDESK_RATE_LIMIT_CONVERSATION_MESSAGES_PER_MINUTE": "0",
            },
            workers=args.workers,
            log=Path(tmp.name) / "server.log",
        ).start()
        base = server.base
    try:
        asyncio.run(run_level(base, 4, 40))  # warm-up
        print(
            f"POST /api/v1/conversations/{{id}}/messages against {base} ({'own server, SQLite' if server else 'given server'})"
        )
        print(
            f"{'concurrency':>11} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7}   (median of {args.runs} runs)"
        )
        for level in args.concurrency:
            runs = [asyncio.run(run_level(base, level, args.requests)) for _ in range(args.runs)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            errors = sum(r["errors"] for r in runs)
            print(
                f"{level:>11} {int(med['requests']):>9} {med['p50']:>8.1f} {med['p99']:>8.1f} {med['rps']:>8.0f} {errors:>7}"
            )
    finally:
        if server is not None:
            server.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
