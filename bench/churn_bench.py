"""The churn-risk model on a generated population: held-out AUC, Brier, calibration, training time.

Generates N customers with their 24-month histories (bank/history.py, the demo bank's generator),
trains the model as `helixdesk lifecycle train --customers N --seed S` does (the pack's settings;
the held-out quarter of the customers is chosen by a hash of their ref), and prints on the
held-out customers: AUC, the Brier score against predicting the base rate, the calibration table
(10 bins of the predicted probability: predicted against observed churn) and the times. For
reference it also prints the AUC of each feature alone (its sign chosen on the training part).

    .venv/bin/python bench/churn_bench.py [--customers 5000] [--seed 7] [--as-of 2026-11-23] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np
from sklearn.metrics import roc_auc_score

from helixdesk.bank.history import demo_population
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.data import simulated_histories
from helixdesk.lifecycle.features import FEATURE_NAMES
from helixdesk.lifecycle.stages import lifecycle_stage
from helixdesk.lifecycle.training import build_examples, in_share, train_churn_model
from helixdesk.packs.loader import load_pack


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-23", help="the day the population is seen at")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    config = load_lifecycle_config(load_pack("retail_bank"))
    as_of = date.fromisoformat(args.as_of)

    started = time.perf_counter()
    population = demo_population(args.customers, seed=args.seed, as_of=as_of)
    generate_seconds = time.perf_counter() - started
    histories = simulated_histories(population)
    result = train_churn_model(histories, config)
    report = result.report
    trajectories = Counter(c.history.trajectory for c in population)
    stages = Counter(lifecycle_stage(h, config).stage.value for h in histories)
    single = _single_feature_auc(histories, config)
    figures = {
        "seed": args.seed,
        "customers": args.customers,
        "as_of": as_of.isoformat(),
        "generate_seconds": round(generate_seconds, 2),
        "trajectories": dict(sorted(trajectories.items())),
        "stages_today": dict(sorted(stages.items())),
        "single_feature_auc": single,
        **report,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    m = report["metrics"]
    print(
        f"seed {args.seed}, {args.customers} customers seen at {as_of} (generated in {generate_seconds:.1f}s)"
    )
    print("trajectories: " + ", ".join(f"{k} {v}" for k, v in sorted(trajectories.items())))
    print("stages today: " + ", ".join(f"{k} {v}" for k, v in sorted(stages.items())))
    print(
        f"examples (customer x cut-off): fit {report['examples']['fit']}, calibration "
        f"{report['examples']['calibration']}, held-out {report['examples']['heldout']} "
        f"({report['customers_heldout']} customers); churn within 3 months: "
        f"{report['churn_rate']['heldout']:.2%} of held-out cut-offs"
    )
    print(
        f"held-out AUC {m['auc']:.3f} (before calibration {m['auc_uncalibrated']:.3f}); "
        f"Brier {m['brier']:.4f} (predicting the base rate: {m['brier_base_rate']:.4f})"
    )
    print(
        f"training: fit + calibration {report['train_seconds']:.2f}s; with the features of every cut-off "
        f"{report['total_seconds']:.1f}s"
    )
    print("\ncalibration on held-out cut-offs")
    print(f"{'predicted':>10} {'n':>7} {'mean predicted':>15} {'observed':>9}")
    for row in report["calibration"]:
        predicted = "" if row["predicted"] is None else f"{row['predicted']:.3f}"
        observed = "" if row["observed"] is None else f"{row['observed']:.3f}"
        print(f"{row['bin']:>10} {row['n']:>7} {predicted:>15} {observed:>9}")
    print("\ncoefficients (standardised) and each feature's AUC alone")
    for name in FEATURE_NAMES:
        print(f"{name:>18} {report['coefficients'][name]:>8.3f} {single[name]:>7.3f}")


def _single_feature_auc(histories, config) -> dict[str, float]:  # type: ignore[no-untyped-def]
    examples = build_examples(histories, config)
    held = np.asarray([in_share(r, config.model.heldout_share, "heldout") for r in examples.refs])
    out = {}
    for i, name in enumerate(FEATURE_NAMES):
        train_auc = roc_auc_score(examples.y[~held], examples.x[~held, i])
        sign = 1.0 if train_auc >= 0.5 else -1.0
        out[name] = round(float(roc_auc_score(examples.y[held], sign * examples.x[held, i])), 3)
    return out


if __name__ == "__main__":
    main()
