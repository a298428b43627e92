"""Analytics at scale: the dashboard over a million conversations, and the rollups keeping up with
the message flow.

`scale` (the default): a PostgreSQL database of its own gets `--conversations` generated
conversations (1,000,000; customers, conversations and their analytics facts, written with COPY,
spread over `--days` days with realistic outcomes), the rollups are summed from the facts by the
rebuild's own code (`analytics.rollup.rewrite_rollups`), and a real server answers the dashboard's
main call, `GET /console/api/analytics/summary` (every metric with the previous period, the per-day
series, the breakdowns and the filters' options), signed in as a manager: the last 7 and 30 days,
90 and 365 days, and with filters (channel, language and queue, an agent), `--repeat` times each.
Printed: p50 and p95 per shape and over all, and the first page of a drill-down.

`flow`: a server on SQLite (the embedded default) with the `analytics` consumer running beside it
(`helixdesk serve` starts it as a child process), under `bench/api_bench.py`'s load: the events
stored per second, how far behind the consumer fell (events) and how long it took to catch up
after the load. The same load against the same server without the consumer, alternated, gives the
turn latency with and without it.

    .venv/bin/python bench/analytics_bench.py scale [--conversations 1000000] [--days 365] [--repeat 20]
    .venv/bin/python bench/analytics_bench.py flow [--requests 600] [--concurrency 8] [--runs 3]
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
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.api_bench import pct, run_level  # noqa: E402
from bench.common import database  # noqa: E402

from helixdesk.analytics.facts import Fact  # noqa: E402
from helixdesk.analytics.models import AnalyticsFact  # noqa: E402
from helixdesk.analytics.rollup import rewrite_rollups, to_row  # noqa: E402
from helixdesk.auth.service import StaffAccounts  # noqa: E402
from helixdesk.core.timezones import zone  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory, transaction  # noqa: E402
from tests.console_login import sign_in  # noqa: E402
from tests.serverproc import Server  # noqa: E402

TZ = zone("Asia/Shanghai")
PASSWORD = "analytics-bench-2026"
CHANNELS = (("web", 0.45), ("app", 0.35), ("wechat", 0.15), ("api", 0.05))
LANGUAGES = (("zh-Hans", 0.7), ("zh-Hant", 0.1), ("en", 0.2))
QUEUES = (("general", 0.6), ("senior", 0.15), ("fraud", 0.1), ("relationship_manager", 0.15))
SLA = {"general": 180, "senior": 120, "fraud": 60, "relationship_manager": 180}
REASONS = {
    "general": ("customer_request", "low_confidence", "repeated_intent"),
    "senior": ("escalation", "emotion", "vulnerability"),
    "fraud": ("fraud",),
    "relationship_manager": ("vip_wealth",),
}
TIERS = (("", 0.5), ("standard", 0.3), ("gold", 0.12), ("vip", 0.05), ("platinum", 0.03))
INTENTS = [f"intent_{i:02d}" for i in range(40)]
SCORECARD = (
    "conversation_id",
    "agent_id",
    "channel",
    "language",
    "score",
    "breakdown",
    "findings",
    "compliance_findings",
    "conflict",
    "messages",
    "final",
    "last_log_seq",
    "started_at",
    "updated_at",
    "sampled",
)
EMOTIONS = ("neutral", "joy", "anger", "sadness", "fear", "disgust", "surprise")


def pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def generate(n: int, days: int, agents: list[str], now: datetime, seed: int = 11):
    """`n` conversations over the `days` days before `now`: (customer, conversation row, fact). The
    same arguments give the same outcomes (the ids differ)."""
    rng = random.Random(seed)
    customers = [uuid.uuid4().hex for _ in range(max(1, n // 5))]
    for _ in range(n):
        started = now - timedelta(seconds=rng.uniform(0, days * 86400))
        cid = uuid.uuid4().hex
        customer = customers[rng.randrange(len(customers))]
        channel, language = pick(rng, CHANNELS), pick(rng, LANGUAGES)
        engaged = rng.random() > 0.04
        handed = engaged and rng.random() < 0.28
        queue = pick(rng, QUEUES) if handed else ""
        claimed = handed and rng.random() > 0.06
        wait = rng.expovariate(1 / 50) if claimed else None
        response = (wait or 0) + rng.uniform(5, 40) if claimed else None
        handled = rng.uniform(120, 900) if claimed else 0.0
        emotions = {rng.choice(EMOTIONS): rng.randint(1, 3)} if engaged else {}
        negative = any(e in ("anger", "sadness", "fear", "disgust") for e in emotions)
        risks = ("fraud",) if queue == "fraud" else (("escalation",) if rng.random() < 0.02 else ())
        sla = SLA[queue] if handed else None
        tier = pick(rng, TIERS)  # (drawn in this order: the same seed gives the same outcomes)
        intent = rng.choice(INTENTS) if engaged and rng.random() > 0.1 else ""
        fact = Fact(
            conversation_id=cid,
            customer_id=customer,
            started_at=started,
            day=started.astimezone(TZ).date(),
            channel=channel,
            language=language,
            queue=queue,
            tier=tier,
            intent=intent,
            agent_id=rng.choice(agents) if claimed else "",
            engaged=engaged,
            contained=engaged and not handed,
            handed_off=handed,
            handoff_reason=rng.choice(REASONS[queue]) if handed else "",
            closed=engaged,
            resolved=engaged and rng.random() < 0.78,
            csat=rng.choices((1, 2, 3, 4, 5), weights=(4, 5, 10, 35, 46))[0] if rng.random() < 0.3 else None,
            first_response_seconds=round(rng.uniform(0.3, 3.0), 3) if engaged else None,
            queue_wait_seconds=round(wait, 3) if wait is not None else None,
            abandoned=handed and not claimed,
            handled_seconds=round(handled, 3),
            transfers=1 if claimed and rng.random() < 0.05 else 0,
            negative=negative,
            risky=bool(risks),
            sla_seconds=sla,
            agent_response_seconds=round(response, 3) if response is not None else None,
            sla_met=(response <= sla) if response is not None and sla else (False if handed else None),
            emotional_load=round(rng.uniform(0, 1), 4) if claimed else 0.0,
            emotions=emotions,
            risks=risks,
            # The bot's answer to a contained request cites the FAQ entry of its intent.
            knowledge=(f"faq-{intent}",) if engaged and not handed and intent else (),
        )
        yield customer, (cid, customer, channel, "closed", language, started), fact


def _copy(cur, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(url: str, n: int, days: int) -> list[str]:
    """Migrate, add the staff, write `n` conversations and their facts, sum the rollups; returns the
    agents' ids."""
    import json

    import psycopg

    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    accounts = StaffAccounts(sessions=sessions)
    accounts.create_user(username="mgr.bench", password=PASSWORD, display_name="Manager", roles=["manager"])
    agents = [
        accounts.create_user(
            username=f"agent.{i}", password=PASSWORD, display_name=f"Agent {i}", roles=["agent"]
        ).id
        for i in range(60)
    ]
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    began = time.perf_counter()
    now = datetime.now(UTC)
    seen: set[str] = set()
    cols = tuple(c.name for c in AnalyticsFact.__table__.columns)
    with psycopg.connect(raw) as conn, conn.cursor() as cur:
        batch_c, batch_v, batch_f = [], [], []

        def flush() -> None:
            _copy(cur, "customers", ("id", "language", "created_at"), batch_c)
            _copy(
                cur,
                "conversations",
                (
                    "id",
                    "customer_id",
                    "channel",
                    "state",
                    "language",
                    "last_seq",
                    "created_at",
                    "updated_at",
                    "closed_at",
                ),
                [(c, u, ch, st, lang, 0, at, at, at) for c, u, ch, st, lang, at in batch_v],
            )
            rows = []
            for f in batch_f:
                r = to_row(f)
                r["emotions"] = json.dumps(r["emotions"])
                r["risks"] = json.dumps(r["risks"])
                r["knowledge"] = json.dumps(r["knowledge"])
                rows.append(tuple(r[c] for c in cols))
            _copy(cur, "analytics_facts", cols, rows)
            # Quality monitoring's scorecards, where compliance findings are read from.
            _copy(
                cur,
                "qa_scorecards",
                SCORECARD,
                [
                    (
                        f.conversation_id,
                        f.agent_id or None,
                        f.channel,
                        f.language,
                        90.0,
                        "{}",
                        n,
                        n,
                        False,
                        3,
                        True,
                        0,
                        f.started_at,
                        f.started_at,
                        False,
                    )
                    for f in batch_f
                    for n in ((1 if hash(f.conversation_id) % 10 == 0 else 0),)
                ],
            )
            batch_c.clear(), batch_v.clear(), batch_f.clear()

        for customer, conv, fact in generate(n, days, agents, now):
            if customer not in seen:
                seen.add(customer)
                batch_c.append((customer, conv[4], conv[5]))
            batch_v.append(conv)
            batch_f.append(fact)
            if len(batch_v) >= 20000:
                flush()
        flush()
        conn.commit()
    print(f"wrote {n:,} conversations and facts in {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    with transaction(sessions) as s:
        rewrite_rollups(s)
    print(
        f"summed the rollups from the stored facts (the rebuild's code) in {time.perf_counter() - began:.0f} s"
    )
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        cells = conn.execute("SELECT count(*) FROM analytics_cells").fetchone()[0]
        counts = conn.execute("SELECT count(*) FROM analytics_counts").fetchone()[0]
    print(f"rollups: {cells:,} cells and {counts:,} counts")
    engine.dispose()
    return agents


def scale(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        database("postgresql", Path(tmp), args.pg_admin, prefix="analyticsbench") as url,
    ):
        agents = load(url, args.conversations, args.days)
        server = Server(
            {
                "HELIXDESK_DATABASE_URL": url,
                "HELIXDESK_LOG_LEVEL": "warning",
                "HELIXDESK_MODEL_DIR": str(Path(args.model_dir).resolve()),
            },
            log=Path(tmp) / "server.log",
        ).start()
        try:
            today = datetime.now(UTC).astimezone(TZ).date()
            shapes = {
                "last 7 days": {"period": "week"},
                "last 30 days": {"period": "month"},
                "90 days": {"from": str(today - timedelta(days=89)), "to": str(today)},
                "365 days": {"from": str(today - timedelta(days=364)), "to": str(today)},
                "30 days, app": {"period": "month", "channel": "app"},
                "30 days, en, general": {"period": "month", "language": "en", "queue": "general"},
                "30 days, one agent": {"period": "month", "agent": agents[0]},
            }
            with httpx.Client(base_url=server.base, timeout=60) as client:
                sign_in(client, "mgr.bench", PASSWORD)
                client.get("/console/api/analytics/summary", params={"period": "week"})  # warm-up
                every: list[float] = []
                print(
                    f"\nGET /console/api/analytics/summary over {args.conversations:,} conversations (PostgreSQL), {args.repeat} requests per shape"
                )
                print(f"{'shape':<24} {'p50 ms':>8} {'p95 ms':>8}")
                for name, params in shapes.items():
                    times = []
                    for _ in range(args.repeat):
                        began = time.perf_counter()
                        r = client.get("/console/api/analytics/summary", params=params)
                        times.append((time.perf_counter() - began) * 1000)
                        assert r.status_code == 200, r.text
                    every += times
                    print(f"{name:<24} {statistics.median(times):>8.1f} {pct(times, 95):>8.1f}")
                print(f"{'all':<24} {statistics.median(every):>8.1f} {pct(every, 95):>8.1f}")
                volume = next(m for m in r.json()["metrics"] if m["key"] == "volume")["value"]
                drill = []
                for _ in range(args.repeat):
                    began = time.perf_counter()
                    d = client.get(
                        "/console/api/analytics/conversations",
                        params={"period": "month", "metric": "containment"},
                    )
                    drill.append((time.perf_counter() - began) * 1000)
                print(
                    f"drill-down, containment, last 30 days, first page of {d.json()['total']:,}: p50 {statistics.median(drill):.1f} ms, p95 {pct(drill, 95):.1f} ms"
                )
                print(f"(the one-agent shape counted {volume:,} conversations)")
        finally:
            server.stop()


def _lag_sampler(db: Path, stop: threading.Event, out: list[tuple[float, int, int]]) -> None:
    import sqlite3

    while not stop.is_set():
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                head = conn.execute("SELECT coalesce(max(log_seq), 0) FROM event_log").fetchone()[0]
                row = conn.execute(
                    "SELECT log_seq FROM consumer_offsets WHERE consumer = 'analytics'"
                ).fetchone()
            out.append((time.perf_counter(), int(head or 0), int(row[0]) if row else 0))
        except sqlite3.Error:
            pass
        stop.wait(0.25)


def flow(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp())
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    lags: list[dict[str, float]] = []
    for run in range(args.runs):
        for with_analytics in (True, False) if run % 2 == 0 else (False, True):
            db = tmp / f"flow-{run}-{int(with_analytics)}.db"
            server = Server(
                {
                    "HELIXDESK_DATABASE_URL": f"sqlite:///{db}",
                    "HELIXDESK_LOG_LEVEL": "warning",
                    "HELIXDESK_MODEL_DIR": str(Path(args.model_dir).resolve()),
                    "HELIXDESK_RATE_LIMIT_IP_PER_MINUTE": "0",
                    "HELIXDESK_RATE_LIMIT_CONVERSATION_MESSAGES_PER_MINUTE": "0",
                    "HELIXDESK_QUALITY_WORKER": "false",
                    "HELIXDESK_ANALYTICS_WORKER": "true" if with_analytics else "false",
                },
                log=tmp / "server.log",
            ).start()
            try:
                asyncio.run(run_level(server.base, 4, 40))  # warm-up
                samples: list[tuple[float, int, int]] = []
                stop = threading.Event()
                sampler = threading.Thread(target=_lag_sampler, args=(db, stop, samples), daemon=True)
                sampler.start()
                began = time.perf_counter()
                result = asyncio.run(run_level(server.base, args.concurrency, args.requests))
                ended = time.perf_counter()
                results[with_analytics].append(result)
                if with_analytics:
                    deadline = time.perf_counter() + 120
                    while time.perf_counter() < deadline and (not samples or samples[-1][2] < samples[-1][1]):
                        time.sleep(0.25)
                stop.set()
                sampler.join()
                during = [s for s in samples if began <= s[0] <= ended]
                if with_analytics and during:
                    produced = during[-1][1] - during[0][1]
                    caught = next((s[0] for s in samples if s[0] >= ended and s[2] >= s[1]), None)
                    lags.append(
                        {
                            "events_per_s": produced / max(1e-6, during[-1][0] - during[0][0]),
                            "max_lag": max(s[1] - s[2] for s in during),
                            "catch_up_s": (caught - ended) if caught is not None else float("nan"),
                        }
                    )
            finally:
                server.stop()
    print(
        f"\nSQLite, concurrency {args.concurrency}, {args.requests} messages per run, {args.runs} runs (medians)"
    )
    print(f"{'analytics consumer':<20} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for flag in (False, True):
        runs = results[flag]
        print(
            f"{'on' if flag else 'off':<20} {statistics.median(r['p50'] for r in runs):>8.1f} "
            f"{statistics.median(r['p99'] for r in runs):>8.1f} {statistics.median(r['rps'] for r in runs):>8.1f}"
        )
    if lags:
        print(
            f"events stored: {statistics.median(lag['events_per_s'] for lag in lags):.0f}/s; the consumer's largest lag "
            f"{statistics.median(lag['max_lag'] for lag in lags):.0f} events; caught up "
            f"{statistics.median(lag['catch_up_s'] for lag in lags):.1f} s after the load (medians)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("scale", "flow"), nargs="?", default="scale")
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model-dir", default="var/models")
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    scale(args) if args.mode == "scale" else flow(args)


if __name__ == "__main__":
    main()
