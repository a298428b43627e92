"""Scores of an intent classifier on labelled data: accuracy, macro-F1, per-label P/R/F1, confusions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from helixdesk.nlu.intent.data import OOS_LABEL, is_oos


@dataclass(frozen=True, slots=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class EvalReport:
    n: int
    accuracy: float
    macro_f1: float
    in_scope_accuracy: float | None
    oos_recall: float | None
    oos_support: int
    per_label: list[LabelScore] = field(default_factory=list)
    confused: list[tuple[str, str, int]] = field(default_factory=list)  # (true, predicted, count)

    def summary(self) -> dict[str, Any]:
        """The headline figures (what a manifest records)."""
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "in_scope_accuracy": None if self.in_scope_accuracy is None else round(self.in_scope_accuracy, 4),
            "oos_recall": None if self.oos_recall is None else round(self.oos_recall, 4),
            "oos_support": self.oos_support,
        }

    def to_dict(self) -> dict[str, Any]:
        out = self.summary()
        out["per_label"] = [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(s).items()}
            for s in self.per_label
        ]
        out["confused"] = [{"true": t, "predicted": p, "count": c} for t, p, c in self.confused]
        return out


def evaluate(y_true: Sequence[str], y_pred: Sequence[str], *, top_confused: int = 10) -> EvalReport:
    """Compare gold and predicted labels. Any `oos`/`out_of_scope` label counts as out of scope."""
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    true = np.array([OOS_LABEL if is_oos(t) else t for t in y_true], dtype=object)
    pred = np.array([OOS_LABEL if is_oos(p) else p for p in y_pred], dtype=object)
    n = len(true)
    if n == 0:
        return EvalReport(0, 0.0, 0.0, None, None, 0)
    labels = sorted(set(true.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(
        true, pred, labels=labels, zero_division=0.0
    )
    per_label = [
        LabelScore(label, float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    ]
    oos_mask = true == OOS_LABEL
    oos_support = int(oos_mask.sum())
    in_scope = ~oos_mask
    confusions = Counter(
        (str(t), str(p)) for t, p in zip(true.tolist(), pred.tolist(), strict=True) if t != p
    )
    return EvalReport(
        n=n,
        accuracy=float((true == pred).mean()),
        macro_f1=float(np.mean(f1)),
        in_scope_accuracy=float((true[in_scope] == pred[in_scope]).mean()) if in_scope.any() else None,
        oos_recall=float((pred[oos_mask] == OOS_LABEL).mean()) if oos_support else None,
        oos_support=oos_support,
        per_label=per_label,
        confused=[(t, p, c) for (t, p), c in confusions.most_common(top_confused)],
    )


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """Predictions whose confidence fell in [low, high): how many, their mean confidence, and how
    many of them were right (accuracy)."""

    low: float
    high: float
    count: int
    confidence: float | None
    accuracy: float | None


@dataclass(frozen=True, slots=True)
class Calibration:
    """How far confidences are from being probabilities: the expected calibration error (the
    count-weighted mean of |accuracy - confidence| over the bins), the largest gap in a bin
    (MCE), and the reliability bins themselves."""

    ece: float
    mce: float
    bins: list[ReliabilityBin] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            "ece": round(self.ece, 4),
            "mce": round(self.mce, 4),
            "bins": [
                {
                    "low": r(b.low),
                    "high": r(b.high),
                    "count": b.count,
                    "confidence": r(b.confidence),
                    "accuracy": r(b.accuracy),
                }
                for b in self.bins
            ],
        }


def calibration(confidence: Sequence[float], correct: Sequence[bool], *, bins: int = 10) -> Calibration:
    """Reliability of `confidence` (the probability the model gave its answer) against whether the
    answer was `correct`, over `bins` equal-width bins of [0, 1] (a confidence of 1 falls in the last)."""
    if len(confidence) != len(correct):
        raise ValueError("confidence and correct differ in length")
    if bins < 1:
        raise ValueError("bins must be at least 1")
    conf = np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0)
    right = np.asarray(correct, dtype=bool)
    index = np.minimum((conf * bins).astype(np.int64), bins - 1)
    out: list[ReliabilityBin] = []
    ece = mce = 0.0
    n = len(conf)
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        low, high = b / bins, (b + 1) / bins
        if not count:
            out.append(ReliabilityBin(low, high, 0, None, None))
            continue
        mean_conf = float(conf[mask].mean())
        accuracy = float(right[mask].mean())
        gap = abs(accuracy - mean_conf)
        ece += gap * count / n
        mce = max(mce, gap)
        out.append(ReliabilityBin(low, high, count, mean_conf, accuracy))
    return Calibration(ece=ece, mce=mce, bins=out)


def confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> tuple[list[str], list[list[int]]]:
    """The labels (rows: true, columns: predicted) and the counts. `labels` defaults to every label
    seen in either, sorted; out-of-scope spellings count as `out_of_scope`."""
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    true = [OOS_LABEL if is_oos(t) else t for t in y_true]
    pred = [OOS_LABEL if is_oos(p) else p for p in y_pred]
    names = list(labels) if labels is not None else sorted(set(true) | set(pred))
    index = {label: i for i, label in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for t, p in zip(true, pred, strict=True):
        if t in index and p in index:
            matrix[index[t]][index[p]] += 1
    return names, matrix
