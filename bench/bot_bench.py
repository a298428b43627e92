"""Bot turn latency with retrieval and actions in the loop, through the conversation service.

Builds the whole platform in-process on a fresh SQLite database (demo bank, the pack's FAQ in the
knowledge base, demo rates, the trained NLU models from $HELIXDESK_MODEL_DIR or var/models),
verifies a few customers through the demo outbox, then times whole turns: the message is stored,
understood, the dialogue manager runs (knowledge answers, balance, transactions, statements,
instalment quotes, exchange rates), the reply is worded and stored.

    .venv/bin/python bench/bot_bench.py [--turns 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helixdesk.actions.rates import RateService
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.container import Container
from helixdesk.knowledge.ingest import ingest
from helixdesk.nlu.embeddings import embed
from helixdesk.notifications import list_outbox

TURNS = [
    ("faq", "开户需要带什么证件？"),
    ("faq", "How do I raise my transfer limit in the app?"),
    ("faq", "信用卡年费怎么免？"),
    ("faq", "為甚麼我的卡在國外刷不了？"),
    ("action", "我的余额还有多少"),
    ("action", "show me last month's transactions"),
    ("action", "我的信用卡账单什么时候到期"),
    ("action", "分期提前还款要多少钱"),
    ("action", "What's the USD exchange rate today?"),
    ("chat", "你好"),
    ("chat", "thanks, bye"),
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


async def run(turns: int, runs: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(50))
    ingest(sessions, [], embed=embed, pack="retail_bank")
    RateService(sessions=sessions).seed_demo(as_of=datetime.now(UTC))
    engine.dispose()
    container = Container.build(Settings(database_url=url, secret_key="b" * 32))  # type: ignore[call-arg]
    await container.start()
    service = container.conversations
    conversations = []
    for i in range(1, 9):
        ref = f"C{i:06d}"
        conv = await service.create_conversation(channel="api", customer_ref=ref)
        await service.post_customer_message(conv.id, "查一下我的余额")
        body = list_outbox(container.sessions, container.keyring, customer_ref=ref, limit=1)[0].body
        code = re.findall(r"(?<!\d)(\d{6})(?!\d)", body)[0]
        await service.post_customer_message(conv.id, code)
        conversations.append(conv.id)
    by_kind: dict[str, list[float]] = {}
    medians: list[tuple[float, float]] = []
    silent = 0
    for _ in range(runs):
        latencies: list[float] = []
        for n in range(turns):
            kind, text = TURNS[n % len(TURNS)]
            conv_id = conversations[n % len(conversations)]
            t0 = time.perf_counter()
            result = await service.post_customer_message(conv_id, text)
            ms = (time.perf_counter() - t0) * 1000
            if not result.replies:
                silent += 1  # handed to a person: the bot stays silent, so this turn is not a bot turn
            latencies.append(ms)
            by_kind.setdefault(kind, []).append(ms)
        medians.append((statistics.median(latencies), pct(latencies, 99)))
    await container.stop()
    print(f"bot turns through the conversation service, SQLite, {turns} turns x {runs} runs")
    print(f"turns without a bot reply (conversation with a person): {silent}")
    print("| run | p50 ms | p99 ms |")
    print("|---|---|---|")
    for i, (p50, p99) in enumerate(medians, 1):
        print(f"| {i} | {p50:.1f} | {p99:.1f} |")
    print(
        f"| median | {statistics.median(m[0] for m in medians):.1f} | {statistics.median(m[1] for m in medians):.1f} |"
    )
    print("\n| kind | turns | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for kind, values in sorted(by_kind.items()):
        print(f"| {kind} | {len(values)} | {statistics.median(values):.1f} | {pct(values, 99):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.turns, args.runs))


if __name__ == "__main__":
    main()
