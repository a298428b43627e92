"""How fast quality monitoring scores conversations: the durable consumer `quality` catching up on
an event log of N conversations (the turns of the labelled QA set, replayed as real conversations
with their events), on SQLite or PostgreSQL, with the learnt classifier (var/models) and without it.

Prints conversations and messages scored per second (median of `--runs`), one process, as
`helixdesk qa run` runs it. The conversation flow a deployment sees is far lower than this; the
figure says how much headroom the consumer has.

    .venv/bin/python bench/qa_consumer_bench.py [--conversations 400] [--db sqlite|postgresql] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helixdesk.bus.consumer import DurableConsumer  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory  # noqa: E402
from helixdesk.packs.loader import load_pack  # noqa: E402
from helixdesk.quality.evaluation import load_items  # noqa: E402
from helixdesk.quality.model import load_if_trained  # noqa: E402
from helixdesk.quality.monitor import QualityMonitor  # noqa: E402
from helixdesk.quality.rules import RuleBook  # noqa: E402
from tests.contract.test_quality_monitor import Desk  # noqa: E402


def database(kind: str, tmp: Path, admin: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'qa-{uuid.uuid4().hex[:6]}.db'}", None
    import psycopg

    name = f"helixdesk_qabench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}", name


def drop(admin: str, name: str | None) -> None:
    if name is None:
        return
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_run(book: RuleBook, url: str, conversations: int) -> tuple[float, int, int]:
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    desk = Desk(sessions)
    items = load_items(load_pack("retail_bank").path / "quality" / "heldout" / "qa_set.jsonl")
    messages = 0
    for i in range(conversations):
        item = items[i % len(items)]
        cid = desk.conversation()
        for turn in item.turns:
            desk.say(cid, turn.sender, turn.text)
            messages += 1
    asyncio.run(desk.publish())
    consumer = DurableConsumer(name="quality", sessions=sessions, batch_handler=QualityMonitor(book).handle)
    started = time.perf_counter()
    handled = asyncio.run(consumer.catch_up())
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, messages, handled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model-dir", default="var/models")
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    pack = load_pack("retail_bank")
    patterns = RuleBook.load(pack)
    model = load_if_trained(Path(args.model_dir) / "retail_bank")
    books = {"patterns only": patterns}
    if model is not None:
        books["patterns + classifier"] = patterns.with_model(model)
    print(
        f"quality consumer catching up on {args.conversations} conversations, {args.db}, medians of {args.runs}"
    )
    print(f"{'checks':>24} {'conv/s':>8} {'msg/s':>8} {'events':>8} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, book in books.items():
            runs = []
            for _ in range(args.runs):
                url, name = database(args.db, Path(tmp), args.pg_admin)
                try:
                    runs.append(one_run(book, url, args.conversations))
                finally:
                    drop(args.pg_admin, name)
            seconds = statistics.median(r[0] for r in runs)
            messages, events = runs[0][1], runs[0][2]
            print(
                f"{label:>24} {args.conversations / seconds:>8.0f} {messages / seconds:>8.0f} {events:>8} {seconds:>8.2f}"
            )


if __name__ == "__main__":
    main()
