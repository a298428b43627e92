"""The service-effect evaluation at scale: what the console's evaluation page asks for, over a
PostgreSQL database of its own with `--conversations` generated conversations over `--days` days
(`analytics_bench.load`: customers, conversations, their facts, the rollups; a contained request's
answer cites the FAQ entry of its intent).

A real server answers, signed in as a manager, `--repeat` times each: `GET
/console/api/analytics/effect/choices` (the knowledge entries cited, the queues and handoff reasons
of the period) and `GET /console/api/analytics/effect` for the most cited entry, the general queue
and a change from the period's middle day on, over the last 7 and 30 days and 90 days. Printed:
p50 and p95 per call and period, with the conversations each evaluation touched.

    .venv/bin/python bench/analytics_effect_bench.py [--conversations 200000] [--days 365] [--repeat 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.analytics_bench import PASSWORD, TZ, load  # noqa: E402
from bench.api_bench import pct  # noqa: E402
from bench.common import database  # noqa: E402

from tests.console_login import sign_in  # noqa: E402
from tests.serverproc import Server  # noqa: E402

API = "/console/api/analytics"


def timed(client: httpx.Client, path: str, params: dict[str, str], repeat: int) -> tuple[list[float], dict]:
    times, body = [], {}
    for _ in range(repeat):
        began = time.perf_counter()
        r = client.get(API + path, params=params)
        times.append((time.perf_counter() - began) * 1000)
        assert r.status_code == 200, r.text
        body = r.json()
    return times, body


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--model-dir", default="var/models")
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        database("postgresql", Path(tmp), args.pg_admin, prefix="effectbench") as url,
    ):
        load(url, args.conversations, args.days)
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
            periods = {
                "last 7 days": ({"period": "week"}, today - timedelta(days=3)),
                "last 30 days": ({"period": "month"}, today - timedelta(days=15)),
                "90 days": (
                    {"from": str(today - timedelta(days=89)), "to": str(today)},
                    today - timedelta(days=45),
                ),
            }
            with httpx.Client(base_url=server.base, timeout=120) as client:
                sign_in(client, "mgr.bench", PASSWORD)
                client.get(API + "/effect/choices", params={"period": "week"})  # warm-up
                print(
                    f"\nThe evaluation page's calls over {args.conversations:,} conversations (PostgreSQL), "
                    f"{args.repeat} requests each"
                )
                print(f"{'period':<14} {'call':<34} {'touched':>9} {'p50 ms':>8} {'p95 ms':>8}")
                for name, (params, middle) in periods.items():
                    times, choices = timed(client, "/effect/choices", params, args.repeat)
                    listed = f"{len(choices['knowledge'])} entries"
                    print(
                        f"{name:<14} {'choices':<34} {listed:>9} {statistics.median(times):>8.1f} {pct(times, 95):>8.1f}"
                    )
                    entry = choices["knowledge"][0]["key"]
                    for change in (f"knowledge:{entry}", "queue:general", f"after:{middle}"):
                        times, result = timed(client, "/effect", {**params, "change": change}, args.repeat)
                        print(
                            f"{name:<14} {'effect ' + change:<34} {result['touched']:>9,} "
                            f"{statistics.median(times):>8.1f} {pct(times, 95):>8.1f}"
                        )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
