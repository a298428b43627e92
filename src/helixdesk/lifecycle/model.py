"""The churn-risk model: standardised features, a logistic regression, an isotonic calibration.

`ChurnModel.score(history)` gives the calibrated probability that the customer churns (as
`helixdesk.lifecycle.churn` defines it) within the next `horizon_months`, its band, and the
factors behind it: each feature's contribution to the log-odds is its coefficient times its
standardised value, i.e. how far this customer's value moves the risk from that of a customer
with average values. The calibration is monotonic, so the factors that raise the log-odds raise
the probability. Probabilities stay within [0.001, 0.999].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from helixdesk.lifecycle.config import ModelSettings
from helixdesk.lifecycle.customer import CustomerHistory
from helixdesk.lifecycle.features import FEATURE_NAMES, feature_vector

Direction = Literal["raises", "lowers"]
# The calibration's steps can reach 0 or 1 where its data held no churner (or only churners); a
# probability never claims certainty: it stays within [PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR].
PROBABILITY_FLOOR = 0.001


class Reason(NamedTuple):
    feature: str
    direction: Direction  # raises or lowers the risk
    contribution: float  # to the log-odds, against a customer with average values


@dataclass(frozen=True, slots=True)
class ChurnScore:
    probability: float
    band: str  # low, medium, high (the pack's `model.bands`)
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "probability": round(self.probability, 4),
            "band": self.band,
            "reasons": [
                {"feature": r.feature, "direction": r.direction, "contribution": round(r.contribution, 4)}
                for r in self.reasons
            ],
        }


@dataclass(slots=True)
class ChurnModel:
    features: tuple[str, ...]
    scaler: StandardScaler
    classifier: LogisticRegression
    calibrator: IsotonicRegression
    settings: ModelSettings

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        """The logistic regression's log-odds for rows of features."""
        return np.asarray(self.classifier.decision_function(self.scaler.transform(x)), dtype=float)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for rows of features."""
        calibrated = np.asarray(self.calibrator.predict(self.log_odds(x)), dtype=float)
        clipped: np.ndarray = np.clip(calibrated, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
        return clipped

    def contributions(self, row: Sequence[float]) -> np.ndarray:
        """Each feature's contribution to the log-odds of one row (coefficient x standardised value)."""
        z = self.scaler.transform(np.asarray([row], dtype=float))[0]
        return np.asarray(self.classifier.coef_[0] * z, dtype=float)

    def score(self, history: CustomerHistory) -> ChurnScore:
        """The churn risk of the customer at `history.as_of`."""
        if self.features != FEATURE_NAMES:
            raise ValueError("the model was trained on other features; retrain it")
        row = feature_vector(history)
        probability = float(self.probabilities(np.asarray([row], dtype=float))[0])
        return ChurnScore(probability, self.settings.bands.band(probability), self.reasons(row))

    def reasons(self, row: Sequence[float]) -> tuple[Reason, ...]:
        """The `top_reasons` largest contributions, by size, with their direction."""
        contributions = self.contributions(row)
        order = np.argsort(-np.abs(contributions), kind="stable")[: self.settings.top_reasons]
        return tuple(
            Reason(
                self.features[i],
                "raises" if contributions[i] > 0 else "lowers",
                float(contributions[i]),
            )
            for i in order
        )

    def coefficients(self) -> dict[str, float]:
        """Each feature's coefficient on the standardised scale (for the report)."""
        return {
            name: round(float(c), 4) for name, c in zip(self.features, self.classifier.coef_[0], strict=True)
        }
