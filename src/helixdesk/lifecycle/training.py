"""Train the churn-risk model on customers' monthly histories, and measure it on held-out customers.

Examples: every customer is cut at several months (`cutoff_every_months` apart, the last one
`horizon_months` before the end of their history, none with fewer than `min_history_months`
before it). An example's features read the months before the cut-off; its label says whether the
customer churned in the `horizon_months` after it (`churn.churned_within`). A customer who had
churned already at a cut-off gives no example there.

Customers, not examples, are split, by a hash of their ref (the same split on every run and for
every seed): `heldout_share` of them are held out for the figures; of the rest, `calibration_share`
fit the isotonic calibration of the logistic regression's log-odds, the others fit the regression.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

from helixdesk.core.errors import ValidationFailedError
from helixdesk.lifecycle.churn import churned_within
from helixdesk.lifecycle.config import LifecycleConfig, ModelSettings
from helixdesk.lifecycle.customer import CustomerHistory
from helixdesk.lifecycle.features import FEATURE_NAMES, feature_vector
from helixdesk.lifecycle.model import ChurnModel

CALIBRATION_BINS = 10
MIN_POSITIVES = 5  # churners needed in each of the fit, calibration and held-out parts


@dataclass(frozen=True, slots=True)
class Examples:
    x: np.ndarray  # one row of features per (customer, cut-off)
    y: np.ndarray  # 1: churned within the horizon
    refs: tuple[str, ...]

    def where(self, mask: np.ndarray) -> Examples:
        return Examples(
            self.x[mask], self.y[mask], tuple(r for r, keep in zip(self.refs, mask, strict=True) if keep)
        )


@dataclass(frozen=True, slots=True)
class TrainResult:
    model: ChurnModel
    report: dict[str, Any]


def cutoffs(months: int, settings: ModelSettings) -> list[int]:
    """The cut-offs (numbers of months observed) of a history of `months` months, latest first."""
    last = months - settings.horizon_months
    return list(range(last, settings.min_history_months - 1, -settings.cutoff_every_months))


def build_examples(histories: Sequence[CustomerHistory], config: LifecycleConfig) -> Examples:
    rows: list[list[float]] = []
    labels: list[int] = []
    refs: list[str] = []
    for history in histories:
        for cut in cutoffs(len(history.months), config.model):
            label = churned_within(history.months, cut, config.model.horizon_months, config.churn)
            if label is None:
                continue
            rows.append(feature_vector(history.upto(cut)))
            labels.append(int(label))
            refs.append(history.ref)
    x = np.asarray(rows, dtype=float).reshape(len(rows), len(FEATURE_NAMES))
    return Examples(x, np.asarray(labels, dtype=int), tuple(refs))


def in_share(ref: str, share: float, salt: str) -> bool:
    """Whether the customer falls in a `share` of customers, by a hash of `salt` and their ref."""
    digest = hashlib.sha256(f"{salt}:{ref}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000 < share


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict[str, Any]]:
    """Predicted against observed churn in `bins` equal-width bins of the predicted probability."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        table.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "n": n,
                "predicted": round(float(p[mask].mean()), 4) if n else None,
                "observed": round(float(y[mask].mean()), 4) if n else None,
            }
        )
    return table


def train_churn_model(
    histories: Sequence[CustomerHistory],
    config: LifecycleConfig,
    *,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fit, calibrate and measure the model; `churn_too_few_examples` when a part has too few churners."""
    say = progress or (lambda _step: None)
    settings = config.model
    started = time.perf_counter()
    say("examples")
    examples = build_examples(histories, config)
    heldout_mask = np.asarray(
        [in_share(r, settings.heldout_share, "heldout") for r in examples.refs], dtype=bool
    )
    calibration_mask = np.asarray(
        [in_share(r, settings.calibration_share, "calibration") for r in examples.refs], dtype=bool
    )
    heldout = examples.where(heldout_mask)
    calibration = examples.where(~heldout_mask & calibration_mask)
    fit = examples.where(~heldout_mask & ~calibration_mask)
    for name, part in (("fit", fit), ("calibration", calibration), ("held-out", heldout)):
        positives = int(part.y.sum())
        if positives < MIN_POSITIVES or positives == len(part.y):
            raise ValidationFailedError(
                f"the {name} customers give {len(part.y)} examples with {positives} churners; at least "
                f"{MIN_POSITIVES} churners and some who stay are needed in each part: use more customers "
                "(or a longer history)",
                code="churn_too_few_examples",
            )
    say("fit")
    fit_started = time.perf_counter()
    scaler = StandardScaler().fit(fit.x)
    classifier = LogisticRegression(C=settings.c, max_iter=2000, random_state=0)
    classifier.fit(scaler.transform(fit.x), fit.y)
    say("calibrate")
    log_odds = classifier.decision_function(scaler.transform(calibration.x))
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(log_odds, calibration.y)
    train_seconds = time.perf_counter() - fit_started
    model = ChurnModel(FEATURE_NAMES, scaler, classifier, calibrator, settings)
    say("measure")
    p = model.probabilities(heldout.x)
    raw = model.log_odds(heldout.x)
    base_rate = float(fit.y.mean())
    report = {
        "customers": len({h.ref for h in histories}),
        "customers_fit": len(set(fit.refs)),
        "customers_calibration": len(set(calibration.refs)),
        "customers_heldout": len(set(heldout.refs)),
        "examples": {"fit": len(fit.y), "calibration": len(calibration.y), "heldout": len(heldout.y)},
        "churn_rate": {"fit": round(base_rate, 4), "heldout": round(float(heldout.y.mean()), 4)},
        "metrics": {
            "auc": round(float(roc_auc_score(heldout.y, p)), 4),
            "auc_uncalibrated": round(float(roc_auc_score(heldout.y, raw)), 4),
            "brier": round(float(brier_score_loss(heldout.y, p)), 5),
            "brier_base_rate": round(
                float(brier_score_loss(heldout.y, np.full(len(heldout.y), base_rate))), 5
            ),
        },
        "calibration": calibration_table(heldout.y, p),
        "coefficients": model.coefficients(),
        "train_seconds": round(train_seconds, 3),
        "total_seconds": round(time.perf_counter() - started, 3),
    }
    return TrainResult(model, report)
