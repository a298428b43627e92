"""Drift monitoring's cost: the `drift` consumer per event and per day judged, and whether it slows
a customer's turn.

`consumer` (the default): `--days` days of `--per-day` conversations (the pack's held-out
examples through the real NLU, written with their events as `tests/drift_data.py` writes them,
the last day shifted) on SQLite or PostgreSQL; the consumer as `helixdesk drift run` builds it
catches up from an empty offset, `--runs` times (the figures reset in between), then every day is
judged. Printed: events and understood messages per second, microseconds per event and per
message, and milliseconds per day judged (four scopes, the reference read from the database).

`turns`: a server on SQLite (the embedded default) under `bench/api_bench.py`'s load, with the
drift process running beside it (`helixdesk serve` starts it as a child process) and without,
alternated `--runs` times: the turn latency (p50, p99) and throughput with and without it, and
how far behind the consumer fell.

    .venv/bin/python bench/drift_bench.py consumer [--days 14] [--per-day 300] [--db sqlite|postgresql] [--runs 3]
    .venv/bin/python bench/drift_bench.py turns [--requests 600] [--concurrency 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.api_bench import run_level  # noqa: E402
from bench.common import database  # noqa: E402

from helixdesk.bus.consumer import ConsumerOffset  # noqa: E402
from helixdesk.core.settings import Settings  # noqa: E402
from helixdesk.core.timezones import zone  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction  # noqa: E402
from helixdesk.drift.feed import CONSUMER  # noqa: E402
from helixdesk.drift.judge import DriftJudge  # noqa: E402
from helixdesk.drift.models import DriftAlarm, DriftCheck, DriftDay, DriftToken  # noqa: E402
from helixdesk.drift.reference import ModelHeldOut  # noqa: E402
from helixdesk.edge.wiring import build_nlu  # noqa: E402
from helixdesk.packs.loader import load_pack  # noqa: E402
from helixdesk.privacy.crypto import Keyring, generate_key  # noqa: E402
from tests.drift_data import consume, ordinary_day, shifted_day, write_days  # noqa: E402

TZ = zone("Asia/Shanghai")
FIRST = date(2026, 10, 1)


def consumer(args: argparse.Namespace) -> None:
    from sqlalchemy import delete, func, select

    model_dir = Path(args.model_dir).resolve()
    pack = load_pack("retail_bank")
    nlu = build_nlu(Settings(_env_file=None, model_dir=model_dir), pack)
    nlu.warm_up()
    rng = random.Random(7)
    days = {FIRST + timedelta(days=i): ordinary_day(rng, args.per_day) for i in range(args.days - 1)}
    days[FIRST + timedelta(days=args.days - 1)] = shifted_day(rng, args.per_day)
    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp), args.pg_admin, "drift") as url:
        engine = make_engine(url)
        upgrade_engine(engine)
        sessions = make_session_factory(engine)
        began = time.perf_counter()
        write_days(sessions, Keyring.parse(generate_key("bench")), nlu, days, TZ)
        print(
            f"wrote {args.days * args.per_day:,} conversations in {time.perf_counter() - began:.0f} s ({args.db})"
        )
        rates: list[tuple[float, int, int]] = []
        for _ in range(args.runs):
            with transaction(sessions) as s:
                for model in (DriftToken, DriftDay, DriftCheck, DriftAlarm):
                    s.execute(delete(model))
                s.execute(delete(ConsumerOffset).where(ConsumerOffset.consumer == CONSUMER))
            began = time.perf_counter()
            events = asyncio.run(consume(sessions, TZ))
            seconds = time.perf_counter() - began
            with reading(sessions) as s:
                messages = int(s.scalar(select(func.sum(DriftDay.messages))) or 0)
            rates.append((seconds, events, messages))
        seconds = statistics.median(r[0] for r in rates)
        events, messages = rates[0][1], rates[0][2]
        print(
            f"consumer: {events:,} events ({messages:,} understood messages) in {seconds:.2f} s (median of "
            f"{args.runs}): {events / seconds:,.0f} events/s, {seconds / events * 1e6:.0f} us per event, "
            f"{seconds / messages * 1e6:.0f} us per message"
        )
        judge = DriftJudge(
            sessions=sessions,
            tz=TZ,
            pack_path=pack.path,
            held_out=ModelHeldOut(model_dir=model_dir / "retail_bank" / "intent", pack_path=pack.path),
        )
        judge.training_reference()  # the held-out examples read once, as the drift process does
        began = time.perf_counter()
        judged = judge.run()
        seconds = time.perf_counter() - began
        print(
            f"judge: {len(judged.days)} days in {seconds:.2f} s ({seconds / len(judged.days) * 1000:.0f} ms per day, "
            f"four scopes); alarms raised: {len(judged.raised)}, all on the shifted day: "
            f"{all(r.startswith(str(FIRST + timedelta(days=args.days - 1))) for r in judged.raised)} {judged.raised}"
        )
        engine.dispose()


def _lag_sampler(db: Path, stop: threading.Event, out: list[tuple[float, int, int]]) -> None:
    import sqlite3

    while not stop.is_set():
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                head = conn.execute("SELECT coalesce(max(log_seq), 0) FROM event_log").fetchone()[0]
                row = conn.execute("SELECT log_seq FROM consumer_offsets WHERE consumer = 'drift'").fetchone()
            out.append((time.perf_counter(), int(head or 0), int(row[0]) if row else 0))
        except sqlite3.Error:
            pass
        stop.wait(0.25)


def turns(args: argparse.Namespace) -> None:
    from tests.serverproc import Server

    tmp = Path(tempfile.mkdtemp())
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    lags: list[dict[str, float]] = []
    for run in range(args.runs):
        for with_drift in (True, False) if run % 2 == 0 else (False, True):
            db = tmp / f"turns-{run}-{int(with_drift)}.db"
            server = Server(
                {
                    "HELIXDESK_DATABASE_URL": f"sqlite:///{db}",
                    "HELIXDESK_LOG_LEVEL": "warning",
                    "HELIXDESK_MODEL_DIR": str(Path(args.model_dir).resolve()),
                    "HELIXDESK_RATE_LIMIT_IP_PER_MINUTE": "0",
                    "HELIXDESK_RATE_LIMIT_CONVERSATION_MESSAGES_PER_MINUTE": "0",
                    "HELIXDESK_QUALITY_WORKER": "false",
                    "HELIXDESK_DRIFT_WORKER": "true" if with_drift else "false",
                },
                log=tmp / "server.log",
            ).start(timeout=180)
            try:
                asyncio.run(run_level(server.base, 4, 40))  # warm-up
                samples: list[tuple[float, int, int]] = []
                stop = threading.Event()
                sampler = threading.Thread(target=_lag_sampler, args=(db, stop, samples), daemon=True)
                sampler.start()
                began = time.perf_counter()
                result = asyncio.run(run_level(server.base, args.concurrency, args.requests))
                ended = time.perf_counter()
                results[with_drift].append(result)
                if with_drift:
                    deadline = time.perf_counter() + 120
                    while time.perf_counter() < deadline and (not samples or samples[-1][2] < samples[-1][1]):
                        time.sleep(0.25)
                stop.set()
                sampler.join()
                during = [s for s in samples if began <= s[0] <= ended]
                if with_drift and during:
                    caught = next((s[0] for s in samples if s[0] >= ended and s[2] >= s[1]), None)
                    lags.append(
                        {
                            "max_lag": max(s[1] - s[2] for s in during),
                            "catch_up_s": (caught - ended) if caught is not None else float("nan"),
                        }
                    )
            finally:
                server.stop()
    print(
        f"\nSQLite, concurrency {args.concurrency}, {args.requests} messages per run, {args.runs} runs (medians)"
    )
    print(f"{'drift process':<16} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for flag in (False, True):
        runs = results[flag]
        print(
            f"{'on' if flag else 'off':<16} {statistics.median(r['p50'] for r in runs):>8.1f} "
            f"{statistics.median(r['p99'] for r in runs):>8.1f} {statistics.median(r['rps'] for r in runs):>8.1f}"
        )
    if lags:
        print(
            f"the drift consumer's largest lag {statistics.median(lag['max_lag'] for lag in lags):.0f} events; "
            f"caught up {statistics.median(lag['catch_up_s'] for lag in lags):.1f} s after the load (medians)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("consumer", "turns"), nargs="?", default="consumer")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--model-dir", default="var/models")
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    consumer(args) if args.mode == "consumer" else turns(args)


if __name__ == "__main__":
    main()
