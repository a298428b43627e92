"""What the incident register adds to a bot turn: reading the active incidents where the turn is
claimed, reading what a customer holds, and the pure match.

    .venv/bin/python bench/incidents_bench.py [--runs 5] [--resolved 10000] [--active 5]
        [--db sqlite|postgresql] [--pg postgresql://root@127.0.0.1:5432/test]

- read: a transaction with a primary-key read and `active_incidents(s, now)`, next to the same
  transaction without the incidents, with `--active` active incidents among `--resolved` resolved
  ones (years of history), median ms over `--runs` runs of 200;
- products: `customer_products` (accounts, cards and 62 days of transactions from the demo bank),
  median ms per customer over the demo bank's first 50 customers;
- match: `affects` with every restriction set, median microseconds per call.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.common import database  # noqa: E402

from helixdesk.bank.demo import DemoBankConnector  # noqa: E402
from helixdesk.bank.importer import import_bank_file  # noqa: E402
from helixdesk.bank.seed import build_demo_bank  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction  # noqa: E402
from helixdesk.incidents.models import IncidentRow  # noqa: E402
from helixdesk.incidents.products import customer_products  # noqa: E402
from helixdesk.incidents.register import active_incidents  # noqa: E402
from helixdesk.incidents.rules import Incident, affects  # noqa: E402


def _rows(active: int, resolved: int, now: datetime) -> list[IncidentRow]:
    rows = []
    for i in range(active + resolved):
        started = now - timedelta(days=(i % 1500) + 1)
        done = i >= active
        rows.append(
            IncidentRow(
                kind="outage",
                title={"zh-Hans": f"故障 {i}"},
                explanation={"zh-Hans": "说明。"},
                products=["mobile_app"],
                channels=[],
                regions=["上海"],
                started_at=started,
                expected_fix_at=started + timedelta(hours=3),
                status="resolved" if done else "open",
                resolved_at=started + timedelta(hours=2) if done else None,
                version=1,
                created_by="bench",
                created_at=started,
                updated_at=started,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--resolved", type=int, default=10_000)
    parser.add_argument("--active", type=int, default=5)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg", default="postgresql://root@127.0.0.1:5432/test")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp), args.pg, "incidents") as url:
        engine = make_engine(url)
        upgrade_engine(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as s:
            s.add_all(_rows(args.active, args.resolved, now))
            import_bank_file(s, build_demo_bank(50, as_of=now.date(), now=now))
        if args.db == "postgresql":
            # As autovacuum would have by now: without statistics PostgreSQL guesses a third of the
            # table for `resolved_at > now` and scans it all.
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE incidents")
        reads, bare = [], []
        by_id = select(IncidentRow.id).where(IncidentRow.id == "none")
        for _ in range(args.runs):
            start = time.perf_counter()
            for _ in range(200):
                with reading(sessions) as s:
                    s.execute(by_id).all()
                    found = active_incidents(s, now)
            reads.append((time.perf_counter() - start) / 200 * 1000)
            start = time.perf_counter()
            for _ in range(200):
                with reading(sessions) as s:
                    s.execute(by_id).all()
            bare.append((time.perf_counter() - start) / 200 * 1000)
        assert len(found) == args.active
        bank = DemoBankConnector(session_factory=sessions)
        held = []
        for i in range(1, 51):
            start = time.perf_counter()
            customer_products(bank, f"C{i:06d}", now=now)
            held.append((time.perf_counter() - start) * 1000)
        engine.dispose()
    incident = Incident(
        id="i", kind="outage", title={}, explanation={}, products=frozenset({"payroll", "mobile_app"}),
        channels=frozenset({"app", "web"}), regions=frozenset({"广东"}), started_at=now - timedelta(hours=1),
        expected_fix_at=None, status="open", resolved_at=None,
    )  # fmt: skip
    holds = frozenset({"mobile_app", "debit_card"})
    start = time.perf_counter()
    for _ in range(100_000):
        affects(incident, products=holds, channel="app", region="深圳", now=now)
    match_us = (time.perf_counter() - start) / 100_000 * 1e6
    print(f"database: {args.db}; {args.active} active incidents among {args.resolved:,} resolved")
    read, without = statistics.median(reads), statistics.median(bare)
    print(
        f"a transaction reading the active incidents: median {read:.2f} ms, the same without them "
        f"{without:.2f} ms: {read - without:.2f} ms per read ({args.runs} runs of 200)"
    )
    print(
        f"what a customer holds: median {statistics.median(held):.2f} ms, max {max(held):.2f} ms (50 customers)"
    )
    print(f"affects(): {match_us:.1f} us per call")


if __name__ == "__main__":
    main()
