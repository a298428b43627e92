"""How fast `helixdesk simulate` holds persona conversations: the app in this process (ASGI) on a
temporary SQLite database with the demo bank, the trained models ($HELIXDESK_MODEL_DIR or
var/models), the NLU in a process of its own (as `helixdesk serve` runs it; `--nlu-thread` for a
thread of this process). For each concurrency it prints the setup time (the database, the app),
the run time, conversations a minute, the customer messages' p50/p95 response time, the
completion rate and the gate, and whether the target (100 conversations within 5 minutes on this
machine's cores) is met.

    .venv/bin/python bench/simulate_bench.py [--conversations 100] [--seed 7] [--concurrency 1 4 8]
                                             [--nlu-thread]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helixdesk.cli.simulate import RunOptions, run_simulation
from helixdesk.core.settings import Settings
from helixdesk.packs.loader import load_pack
from helixdesk.simulation.plan import plan
from helixdesk.simulation.report import build_report
from helixdesk.simulation.scenarios import load_simulation

ROOT = Path(__file__).resolve().parents[1]
TARGET_CONVERSATIONS, TARGET_SECONDS = 100, 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--nlu-thread", action="store_true", help="understand messages on a thread")
    args = parser.parse_args()
    models = Path(os.environ.get("HELIXDESK_MODEL_DIR", ROOT / "var" / "models"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, model_dir=models, nlu_process=not args.nlu_thread, log_level="warning"
    )
    sim = load_simulation(load_pack(settings.pack))
    planned = plan(sim, args.conversations, args.seed)
    print(
        f"simulate: {args.conversations} persona conversations, seed {args.seed}, {os.cpu_count()} cores, "
        f"NLU {'thread' if args.nlu_thread else 'process'}, models {models}"
    )
    print(
        f"{'concurrency':>11} {'setup s':>8} {'run s':>7} {'conv/min':>9} {'msgs':>5} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'goal':>5} {'gate':>6} {'total s':>8}  target"
    )
    for concurrency in args.concurrency:
        with tempfile.TemporaryDirectory(prefix="simulate-bench-") as folder:
            options = RunOptions(
                seed=args.seed, concurrency=concurrency, database=f"sqlite:///{Path(folder) / 'bench.db'}"
            )
            began = time.perf_counter()
            outcomes, run = asyncio.run(run_simulation(settings, sim, planned, options))
            total = time.perf_counter() - began
        report = build_report(outcomes, sim.gate, run)
        o = report["overall"]
        met = run["elapsed_seconds"] <= TARGET_SECONDS and len(outcomes) >= TARGET_CONVERSATIONS
        print(
            f"{concurrency:>11} {run['setup_seconds']:>8.1f} {run['elapsed_seconds']:>7.1f} "
            f"{run['conversations_per_minute']:>9.1f} {run['customer_messages']:>5} "
            f"{o['response_p50_ms']:>7.0f} {o['response_p95_ms']:>7.0f} {o['completion_rate']:>5.0%} "
            f"{'pass' if report['gate']['passed'] else 'FAIL':>6} {total:>8.1f}  "
            f"{'met' if met else 'not met'} ({TARGET_CONVERSATIONS} in {TARGET_SECONDS} s)"
        )


if __name__ == "__main__":
    main()
