"""A customer's turn with a shadow run and without: does a candidate parsing live traffic slow it?

    .venv/bin/python bench/shadow_bench.py                         # SQLite, 8 clients, and 30 turns/s arriving
    .venv/bin/python bench/shadow_bench.py --clients 8 --rate 20 40 --runs 3 --db postgresql

The same server (`helixdesk serve`, one worker, the NLU in its own process, quality monitoring on
as shipped) is measured alternately

- "shadow off": no learning process;
- "shadow on": the learning process beside the server (as `serve` starts it), with a shadow run:
  a candidate (the live model's artefact registered under another version, so it costs exactly
  what a retrained candidate costs) parsing every bot turn, plus the sampling consumer;

under the turn bench's loads (`bench/turn_bench.py`: closed loops of N clients over the pack's
held-out messages, or turns arriving at a steady rate). It prints the turns' throughput and
latency, and for "shadow on" how many of the turns the shadow had parsed when the load stopped
and how long after that it had parsed them all. The models come from `--model-dir` (read only:
the bench serves them from a folder of links of its own, where the registry writes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database  # noqa: E402
from bench.turn_bench import load, load_open, messages  # noqa: E402

from tests.serverproc import Server  # noqa: E402


def model_folder(source: Path, tmp: Path) -> Path:
    """MODEL_DIR for the server: links to the source's models, and the served intent model's copy
    under another version (the candidate)."""
    from helixdesk.nlu.intent.artefacts import read_manifest, resolve_model_dir

    root = tmp / "models" / "retail_bank"
    (root / "intent").mkdir(parents=True, exist_ok=True)
    for name in ("emotion", "quality"):
        if (source / "retail_bank" / name).is_dir() and not (root / name).exists():
            (root / name).symlink_to((source / "retail_bank" / name).resolve())
    served = resolve_model_dir(source / "retail_bank" / "intent")
    if not (root / "intent" / served.name).exists():
        (root / "intent" / served.name).symlink_to(served.resolve())
    candidate = tmp / "candidate"
    if not candidate.exists():
        shutil.copytree(served, candidate)
        manifest = read_manifest(candidate)
        manifest["version"] = "shadow-" + str(manifest["version"])
        (candidate / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return tmp / "models"


def start_shadow(url: str, models: Path, candidate: Path) -> None:
    """Migrate the database, register the candidate and start its shadow run."""
    from helixdesk.audit import Actor
    from helixdesk.db.migrate import upgrade_engine
    from helixdesk.db.session import make_engine, make_session_factory
    from helixdesk.learning.registry import ModelRegistry

    engine = make_engine(url)
    try:
        upgrade_engine(engine)
        registry = ModelRegistry(sessions=make_session_factory(engine), model_dir=models)
        version = registry.register(candidate, actor=Actor.system("bench")).version
        registry.start_shadow(version, actor=Actor.system("bench"))
    finally:
        engine.dispose()


def shadowed(url: str, limit: float = 120.0) -> dict[str, float]:
    """Of the bot turns since the shadow run began, the share it had parsed when the load stopped,
    and the seconds until it had parsed them all."""
    from sqlalchemy import create_engine, func, select

    from helixdesk.conversations.models import Message
    from helixdesk.learning.models import ShadowRun

    engine = create_engine(url)
    try:
        out: dict[str, float] = {}
        started = time.perf_counter()
        while True:
            with engine.connect() as conn:
                run = conn.execute(select(ShadowRun.parsed, ShadowRun.started_at)).one()
                turns = (
                    conn.scalar(
                        select(func.count(func.distinct(Message.in_reply_to))).where(
                            Message.sender == "bot",
                            Message.in_reply_to.is_not(None),
                            Message.created_at > run.started_at,
                        )
                    )
                    or 0
                )
            waited = time.perf_counter() - started
            out.setdefault("shadow_now", 100.0 * run.parsed / max(1, turns))
            if run.parsed >= turns or waited >= limit:
                out["shadow_catch_up_s"] = waited if run.parsed >= turns else float("inf")
                return out
            time.sleep(0.25)
    finally:
        engine.dispose()


def measure(
    args: argparse.Namespace, shadow: bool, tmp: Path, texts: list[str], label: str
) -> dict[str, list[dict[str, float]]]:
    points = [str(c) for c in args.clients] + [f"{r:g}/s" for r in args.rate]
    results: dict[str, list[dict[str, float]]] = {p: [] for p in points}
    models = model_folder(Path(args.model_dir), tmp / label)  # a folder per run: the registry writes in it
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(database(args.db, tmp, args.pg_admin, prefix="shadow"))
        if shadow:
            start_shadow(url, models, tmp / label / "candidate")
        env = {
            "HELIXDESK_LEARNING_WORKER": "true" if shadow else "false",
            "HELIXDESK_DATABASE_URL": url,
            "HELIXDESK_MODEL_DIR": str(models),
            "HELIXDESK_LOG_LEVEL": "warning",
            "HELIXDESK_SECRET_KEY": "b" * 40,
            "HELIXDESK_RATE_LIMIT_IP_PER_MINUTE": "0",
            "HELIXDESK_RATE_LIMIT_CONVERSATION_MESSAGES_PER_MINUTE": "0",
            "HELIXDESK_QUALITY_WORKER": "true",
        }
        server = Server(env, log=tmp / f"{label}.log").start(timeout=180)
        stack.callback(server.stop)
        asyncio.run(load(server.base, 4, 3, texts))  # warm-up
        if shadow:
            shadowed(url)  # steady state: the learning process started, loaded the candidate, caught up
        for point in results:
            if point.endswith("/s"):
                found = asyncio.run(load_open(server.base, float(point[:-2]), args.seconds, texts))
            else:
                found = asyncio.run(load(server.base, int(point), args.seconds, texts))
            if shadow:
                found |= shadowed(url)
            results[point].append(found)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, nargs="*", default=[8])
    parser.add_argument("--rate", type=float, nargs="*", default=[30])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model-dir", default="var/models")
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    if not (Path(args.model_dir) / "retail_bank" / "intent").is_dir():
        sys.exit(f"no trained models in {args.model_dir}: run `helixdesk nlu train` first")
    texts = messages()
    table: dict[str, dict[str, list[dict[str, float]]]] = {"shadow off": {}, "shadow on": {}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for run in range(args.runs):
            for label, shadow in (("shadow off", False), ("shadow on", True)):
                for point, found in measure(
                    args, shadow, tmp, texts, f"{run}-{label.replace(' ', '_')}"
                ).items():
                    table[label].setdefault(point, []).extend(found)
    print(f"chat turns, {args.db}, 1 worker, {args.seconds:.0f} s a run, medians of {args.runs} runs")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'':>11} {'load':>8} {'turns/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for label, by_point in table.items():
        for point, runs in by_point.items():
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            line = (
                f"{label:>11} {point:>8} {med['turns_s']:>8.0f} {med['p50']:>8.1f} {med['p99']:>8.1f} "
                f"{int(sum(r['errors'] for r in runs)):>7}"
            )
            if "shadow_now" in med:
                line += f"   shadow parsed {med['shadow_now']:.0f} % at the end, all {med['shadow_catch_up_s']:.1f} s later"
            print(line)


if __name__ == "__main__":
    main()
