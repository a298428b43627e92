"""Audit log and rate limiter figures: append cost, `audit verify` speed, limiter overhead.

    .venv/bin/python bench/audit_bench.py [--runs 3] [--appends 2000] [--verify-rows 100000]
        [--pg postgresql://root@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/0] [--skip pg,redis]

- append: one `AuditLog.record` per transaction (what an audited request adds), median ms per
  append over `--runs` runs, next to the same transaction without the audit entry;
- verify: `verify_chain` over `--verify-rows` rows (written once), median seconds and rows/s;
- limiter: median microseconds per `hit` for the in-memory and the Redis backend.
PostgreSQL and Redis figures are skipped with a message when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine

from helixdesk.abuse import MemoryRateLimiter, RedisRateLimiter
from helixdesk.actions.models import ActionAudit
from helixdesk.audit import Actor, AuditLog, Target, verify_chain
from helixdesk.core.clock import utcnow
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction

KEY = b"bench-audit-key-0123456789abcdef0123"


def _plain_row(i: int) -> ActionAudit:
    return ActionAudit(
        at=utcnow(),
        actor="bot",
        customer_ref=f"C{i % 500:06d}",
        conversation_id=None,
        action="get_balance",
        input_json="{}",
        status="ok",
        summary="",
        error_code=None,
        idempotency_key=None,
    )


def append_figures(engine: Engine, appends: int, runs: int) -> tuple[float, float]:
    sessions = make_session_factory(engine)
    audit = AuditLog(key=KEY)
    with_audit, without = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        for i in range(appends):
            with transaction(sessions) as s:
                s.add(_plain_row(i))
        without.append((time.perf_counter() - t0) / appends * 1000)
        t0 = time.perf_counter()
        for i in range(appends):
            with transaction(sessions) as s:
                s.add(_plain_row(i))
                audit.record(
                    s,
                    actor=Actor.bot(),
                    action="action.get_balance",
                    target=Target.customer(f"C{i % 500:06d}"),
                    details={"status": "ok", "conversation_id": str(uuid.uuid4())},
                )
        with_audit.append((time.perf_counter() - t0) / appends * 1000)
    return statistics.median(without), statistics.median(with_audit)


def verify_figures(engine: Engine, rows: int, runs: int) -> tuple[int, float]:
    sessions = make_session_factory(engine)
    audit = AuditLog(key=KEY)
    have = verify_chain(sessions, KEY).rows
    batch = 1000
    while have < rows:
        with transaction(sessions) as s:
            for i in range(min(batch, rows - have)):
                audit.record(
                    s,
                    actor=Actor.staff(f"u-{i % 40}", ip="10.1.2.3"),
                    action="customer.profile.viewed",
                    target=Target.customer(f"C{i % 5000:06d}"),
                    reason="bench",
                    details={"fields": ["phone"]},
                )
        have += min(batch, rows - have)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        report = verify_chain(sessions, KEY)
        times.append(time.perf_counter() - t0)
        assert report.ok, report
    return report.rows, statistics.median(times)


async def limiter_figure(limiter, hits: int, runs: int) -> float:
    per = []
    for r in range(runs):
        t0 = time.perf_counter()
        for i in range(hits):
            await limiter.hit(f"ip:10.0.{r}.{i % 250}", limit=600, window=60)
        per.append((time.perf_counter() - t0) / hits * 1e6)
    await limiter.close()
    return statistics.median(per)


def backend(name: str, url: str, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    try:
        upgrade_engine(engine)
        plain, audited = append_figures(engine, args.appends, args.runs)
        print(
            f"{name}: transaction without / with an audit entry: {plain:.2f} ms / {audited:.2f} ms "
            f"(audit append adds {audited - plain:.2f} ms, median of {args.runs} runs of {args.appends})"
        )
        rows, seconds = verify_figures(engine, args.verify_rows, args.runs)
        print(
            f"{name}: audit verify over {rows} rows: {seconds:.2f} s ({rows / seconds:,.0f} rows/s, median of {args.runs})"
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--verify-rows", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--skip", default="", help="comma-separated: sqlite, pg, redis")
    args = parser.parse_args()
    skip = set(args.skip.split(",")) - {""}

    if "sqlite" not in skip:
        with tempfile.TemporaryDirectory() as tmp:
            backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if "pg" not in skip:
        try:
            import psycopg

            name = f"helixdesk_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except Exception as e:  # noqa: BLE001 - reported and skipped
            print(f"PostgreSQL: skipped ({type(e).__name__}: {e})")
        else:
            try:
                base = args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
                backend("PostgreSQL", f"{base}/{name}", args)
            finally:
                with psycopg.connect(args.pg, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    memory = asyncio.run(limiter_figure(MemoryRateLimiter(), 20_000, args.runs))
    print(f"rate limiter, in-memory: {memory:.1f} µs per hit (median of {args.runs} runs of 20000)")
    if "redis" not in skip:
        redis_limiter = RedisRateLimiter(url=args.redis, prefix=f"helixdesk-bench:{uuid.uuid4().hex}:")
        probe = asyncio.run(redis_limiter.hit("probe", limit=1, window=1))
        if probe.remaining == 1:  # the fail-open answer: Redis is not there
            print("rate limiter, Redis: skipped (no Redis)")
        else:
            us = asyncio.run(
                limiter_figure(
                    RedisRateLimiter(url=args.redis, prefix=f"helixdesk-bench:{uuid.uuid4().hex}:"),
                    5_000,
                    args.runs,
                )
            )
            print(
                f"rate limiter, Redis: {us:.1f} µs per hit (median of {args.runs} runs of 5000, one connection, sequential)"
            )


if __name__ == "__main__":
    main()
