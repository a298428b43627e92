"""Resolution rate of our own scenario suite (tests/scenarios): 86 customer conversations in
zh-Hans, zh-Hant (Hong Kong and Taiwan wording) and English, held end to end through the public
API on a seeded demo bank (SQLite) with the trained NLU models ($HELIXDESK_MODEL_DIR or var/models).
`--suite blind` holds the blind set instead (tests/scenarios/blind: written after the bot's fixes,
never tuned on).

Prints the resolution rate overall, per language and per category, the risk-routing figures, the
count of invented numbers, 5xx and replies out of the customer's language, then every failing
conversation with the customer's turns and the bot's replies.

    .venv/bin/python bench/scenario_bench.py [--suite main|blind] [--only ID ...]
                                             [--language zh-Hant] [--quiet] [--transcripts all.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from helixdesk.core.settings import Settings
from helixdesk.edge.app import create_app
from tests.scenarios.model import SUITES, load_suite
from tests.scenarios.report import failure_lines, summarise, summary_lines, transcripts
from tests.scenarios.runner import CUSTOMERS, SuiteRun
from tests.seeded import seeded_database

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--suite", choices=sorted(SUITES), default="main", help="the main suite or the blind set"
    )
    parser.add_argument("--only", nargs="*", default=[], help="conversation ids to run")
    parser.add_argument("--language", choices=["zh-Hans", "zh-Hant", "en"])
    parser.add_argument("--quiet", action="store_true", help="figures only, no failure wording")
    parser.add_argument("--transcripts", type=Path, help="write every conversation as JSON to this file")
    args = parser.parse_args()

    suite = load_suite(SUITES[args.suite])
    if args.only:
        suite = [c for c in suite if c.id in args.only]
    if args.language:
        suite = [c for c in suite if c.language == args.language]
    tmp = Path(tempfile.mkdtemp(prefix="scenario-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    engine, _ = seeded_database(url, customers=CUSTOMERS)
    engine.dispose()
    models = Path(os.environ.get("HELIXDESK_MODEL_DIR", ROOT / "var" / "models"))
    settings = Settings(  # type: ignore[call-arg]
        database_url=url, model_dir=models, secret_key="s" * 32, rate_limit_ip_per_minute=0
    )
    started = time.perf_counter()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        results = SuiteRun(client).run(suite)
    elapsed = time.perf_counter() - started
    if args.transcripts:
        args.transcripts.write_text(
            json.dumps(transcripts(results), ensure_ascii=False, indent=1), encoding="utf-8"
        )
    print(f"scenario suite ({args.suite}): {len(results)} conversations, models {models}, {elapsed:.0f} s")
    for line in summary_lines(summarise(results)):
        print(line)
    if not args.quiet:
        lines = failure_lines(results)
        print(
            f"\nfailing conversations ({sum(not r.resolved for r in results)} unresolved; "
            "invented numbers and language problems listed too):"
            if lines
            else "\nno failures"
        )
        for line in lines:
            print(line)


if __name__ == "__main__":
    main()
