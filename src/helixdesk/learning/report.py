"""A model's report on the fixed regression set (the pack's held-out intent file): accuracy, macro-F1,
per-label precision, recall and F1, the confusion matrix, out-of-scope recall, calibration (expected
calibration error and reliability bins) and latency, as JSON (the console renders it as a page).

The regression set never changes with the labels: every version is measured on the same messages,
so two reports compare. Its SHA-256 is in the report; a report on another version of the file is
computed again before it is compared.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from helixdesk.core.clock import utcnow
from helixdesk.nlu.intent.data import Example, data_sha256, load_examples, pack_dir
from helixdesk.nlu.intent.evaluation import calibration, confusion_matrix, evaluate
from helixdesk.nlu.intent.model import IntentClassifier

REPORT_FORMAT = 1
LATENCY_MESSAGES = 100  # parsed one at a time for the per-message latency
BATCH = 64


def regression_path(pack: str) -> Path:
    """The fixed regression set: the pack's held-out intent messages (never trained on)."""
    return pack_dir(pack) / "nlu" / "heldout" / "intents.jsonl"


def regression_set(pack: str) -> tuple[list[Example], str]:
    """The regression messages and their fingerprint."""
    examples = load_examples(regression_path(pack))
    return examples, data_sha256(examples)


def model_report(
    model: IntentClassifier, manifest: dict[str, Any], examples: list[Example], sha256: str, *, pack: str
) -> dict[str, Any]:
    """Measure `model` on the regression `examples` (see the module docstring)."""
    texts = [e.text for e in examples]
    gold = [e.label for e in examples]
    model.predict(["预热 warm up"])  # the sentence encoder loads on first use: not part of the figures
    started = time.perf_counter()
    predictions = model.predict(texts, top_k=1)
    batch_seconds = time.perf_counter() - started
    predicted = [p.intent.name for p in predictions]
    confidence = [p.intent.confidence for p in predictions]
    scores = evaluate(gold, predicted, top_confused=15)
    labels, matrix = confusion_matrix(gold, predicted, labels=sorted(set(gold) | set(predicted)))
    calib = calibration(confidence, [p == g for p, g in zip(predicted, gold, strict=True)])
    singles: list[float] = []
    for text in texts[:LATENCY_MESSAGES]:
        t0 = time.perf_counter()
        model.predict([text], top_k=1)
        singles.append((time.perf_counter() - t0) * 1000)
    out = scores.to_dict()
    out.update(
        {
            "format": REPORT_FORMAT,
            "version": manifest.get("version"),
            "threshold": round(model.threshold, 4),
            "regression": {
                "path": f"packs/{pack}/nlu/heldout/intents.jsonl",
                "sha256": sha256,
                "n": len(examples),
            },
            "confusion": {"labels": labels, "matrix": matrix},
            "calibration": calib.to_dict(),
            "latency": {
                "messages": len(singles),
                "p50_ms": round(statistics.median(singles), 2) if singles else None,
                "p95_ms": round(_percentile(singles, 0.95), 2) if singles else None,
                "batch_ms_per_message": round(batch_seconds * 1000 / max(len(texts), 1), 3),
            },
            "heldout": (manifest.get("metrics") or {}).get("heldout"),
            "computed_at": utcnow().isoformat(timespec="seconds"),
        }
    )
    return out


def summary(report: dict[str, Any] | None) -> dict[str, Any]:
    """The headline figures of a report (what a list shows)."""
    if not report:
        return {}
    return {
        "accuracy": report.get("accuracy"),
        "macro_f1": report.get("macro_f1"),
        "oos_recall": report.get("oos_recall"),
        "ece": (report.get("calibration") or {}).get("ece"),
        "p50_ms": (report.get("latency") or {}).get("p50_ms"),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
