"""What the bot's lifecycle touch adds to a customer's turn.

    .venv/bin/python bench/touch_bench.py [--customers 60] [--runs 3] [--db sqlite|postgresql]

In one process (the container `helixdesk serve` builds, on the demo bank with today's rates), each
of the bank's customers opens a conversation and asks for today's USD rate: the first answered turn
of a conversation, the one where the bot looks for its touch once. The same customers ask again in
new conversations with the touch turned off (the executor without its `TouchReader`), alternating
on and off each run. Printed: the median and 90th percentile of the turn (message stored,
understood, answered, replies stored), on and off; how many turns carried a touch; and the median of
`TouchReader.read` alone (the customer's profile from the bank and the active strategies).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.common import database  # noqa: E402

from helixdesk.actions.rates import RateService  # noqa: E402
from helixdesk.bank.importer import import_bank_file  # noqa: E402
from helixdesk.bank.seed import build_demo_bank  # noqa: E402
from helixdesk.core.clock import utcnow  # noqa: E402
from helixdesk.core.settings import Settings  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory, transaction  # noqa: E402
from helixdesk.edge.container import Container  # noqa: E402

QUESTION = "今天美元汇率是多少"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(container: Container, refs: list[str], *, touch: bool) -> tuple[list[float], int]:
    reader = container.bot.executor.touches
    if not touch:
        container.bot.executor.touches = None
    took: list[float] = []
    touched = 0
    try:
        for ref in refs:
            conv = await container.conversations.create_conversation(channel="web", customer_ref=ref)
            start = time.perf_counter()
            result = await container.conversations.post_customer_message(conv.id, QUESTION)
            took.append((time.perf_counter() - start) * 1000)
            touched += any(r.kind == "touch" for r in result.replies)
    finally:
        container.bot.executor.touches = reader
    return took, touched


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp), args.pg) as url:
        engine = make_engine(url)
        upgrade_engine(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as s:
            import_bank_file(s, build_demo_bank(args.customers))
        RateService(sessions=sessions).seed_demo(as_of=utcnow())
        engine.dispose()
        settings = Settings(_env_file=None, database_url=url, nlu_process=False, secret_key="s" * 32)  # type: ignore[call-arg]
        container = Container.build(settings)
        await container.start()
        try:
            refs = [f"C{i:06d}" for i in range(1, args.customers + 1)]
            await measure(container, refs[:5], touch=True)  # warm up: models, caches
            on: list[float] = []
            off: list[float] = []
            touched = 0
            for run in range(args.runs):
                order = (True, False) if run % 2 == 0 else (False, True)
                for touch in order:
                    took, n = await measure(container, refs, touch=touch)
                    (on if touch else off).extend(took)
                    touched += n if touch else 0
            reader = container.bot.executor.touches
            assert reader is not None
            reads = []
            for ref in refs:
                start = time.perf_counter()
                reader.read(ref, now=utcnow())
                reads.append((time.perf_counter() - start) * 1000)
        finally:
            await container.stop()
    print(f"{args.db}, {args.customers} customers x {args.runs} runs, first answered turn of a conversation")
    print(
        f"touch on : median {statistics.median(on):.1f} ms, p90 {pct(on, 0.9):.1f} ms ({touched} of {len(on)} turns carried a touch)"
    )
    print(f"touch off: median {statistics.median(off):.1f} ms, p90 {pct(off, 0.9):.1f} ms")
    print(f"TouchReader.read alone: median {statistics.median(reads):.1f} ms, p90 {pct(reads, 0.9):.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg", default="postgresql://root@127.0.0.1:5432/test")
    asyncio.run(main(parser.parse_args()))
