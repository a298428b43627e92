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
