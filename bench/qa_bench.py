"""Quality rules on a held-out labelled QA set (the pack's quality/heldout/): per-rule precision
and recall, compliance overall, false alarms on clean items, and how fast the rules run.
`--mistakes` prints every item the rules got wrong.

The sets, each written blind by writers who saw only the labelling conventions: `main`
(qa_set.jsonl, 366 items), `blind` (qa_blind.jsonl, 216), `fresh` (qa_fresh.jsonl, 330) and
`round2` (qa_round2.jsonl, 330). The first three were later used to improve the rules and models;
`round2` measures them on data they were never fitted to.

    .venv/bin/python bench/qa_bench.py [--set main|blind|fresh|round2] [--mistakes] [--language en]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helixdesk.packs.loader import load_pack
from helixdesk.quality.evaluation import COMPLIANCE, evaluate, load_items, predict
from helixdesk.quality.model import load_if_trained
from helixdesk.quality.rules import RuleBook

SETS = {
    "main": "qa_set.jsonl",
    "blind": "qa_blind.jsonl",
    "fresh": "qa_fresh.jsonl",
    "round2": "qa_round2.jsonl",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mistakes", action="store_true", help="print every item the rules got wrong")
    parser.add_argument("--language", help="only items in this language")
    parser.add_argument("--set", choices=sorted(SETS), default="main", help="which labelled set")
    parser.add_argument("--patterns-only", action="store_true", help="without the learnt classifier")
    parser.add_argument(
        "--model-dir", default="var/models", help="where `helixdesk nlu train` put the models"
    )
    args = parser.parse_args()
    pack = load_pack("retail_bank")
    book = RuleBook.load(pack)
    if not args.patterns_only:
        model = load_if_trained(Path(args.model_dir) / "retail_bank")
        book = book.with_model(model)
        print("checks: the pack's patterns" + (" and the learnt classifier" if model else " only (no model)"))
    items = load_items(pack.path / "quality" / "heldout" / SETS[args.set])
    if args.language:
        items = [i for i in items if i.language == args.language]
    report = evaluate(book, items)
    clean = sum(i.clean for i in items)
    print(
        f"QA set {args.set} ({SETS[args.set]}): {len(items)} items ({clean} clean, {len(items) - clean} with problems)"
    )
    print(f"{'rule':<26}{'precision':>10}{'recall':>8}{'tp':>5}{'fp':>5}{'fn':>5}")
    for rule in sorted(report.per_rule):
        c = report.per_rule[rule]
        print(f"{rule:<26}{c.precision:>10.3f}{c.recall:>8.3f}{c.tp:>5}{c.fp:>5}{c.fn:>5}")
    total = report.compliance
    print(
        f"{'compliance (micro)':<26}{total.precision:>10.3f}{total.recall:>8.3f}{total.tp:>5}{total.fp:>5}{total.fn:>5}"
    )
    print("  rules counted as compliance: " + ", ".join(COMPLIANCE))
    for language, c in sorted(report.per_language.items()):
        print(f"  {language:<8} compliance precision {c.precision:.3f} recall {c.recall:.3f}")
    print(
        f"false alarms on clean items: {report.clean_with_alarm}/{report.clean_items} "
        f"= {100 * report.false_alarm_rate:.1f} %"
    )
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        for item in items:
            predict(book, item)
        runs.append(time.perf_counter() - t0)
    per_item = statistics.median(runs) / len(items) * 1000
    turns = sum(len(i.turns) for i in items)
    print(
        f"speed: {per_item:.2f} ms per item, {statistics.median(runs) / turns * 1e6:.0f} us per turn (median of 5)"
    )
    if args.mistakes:
        for m in report.mistakes:
            print(f"\n{m['id']}  missed {m['missed']}  false {m['false']}")
            for t in m["turns"]:
                print("   ", t)


if __name__ == "__main__":
    main()
