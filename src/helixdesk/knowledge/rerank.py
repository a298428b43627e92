"""Second stage: re-rank the fused candidates with a small learned linear model, and ground the best.

Features of a (query, chunk) pair (`FEATURES`, computed by KnowledgeBase.features):
    dense_q       best cosine of the query to the chunk's questions (every language and alternative
                  wording) / heading
    dense_a       best cosine of the query to the chunk's answer / body text
    bm25          saturated BM25 over question + answer, bm25 / (bm25 + BM25_SATURATION)
    bm25_q        saturated BM25 over the questions/heading only
    coverage      share of the query's tokens found in the chunk
    intent        the NLU's probability for one of the chunk's intents (0 without a hint)
    intent_top    1 when the NLU's most likely intent is one of the chunk's intents
    bm25_q_rel    bm25_q relative to the best among the candidates
    dense_q2      mean of the two best question cosines (one lucky wording counts less)
    cue_X         the query asks an X question (helixdesk.knowledge.cues: why, how, status, cost,
                  ...) and share of the chunk's questions that ask it too
    cue_missing_X the query asks an X question and (almost) none of the chunk's questions do

The ranking score is `features @ weights`; the weights are learned on our own dev paraphrases
(bench/data/kb_dev.jsonl, never the pack's held-out questions) by bench/knowledge_tune.py with a
listwise softmax loss (`fit_ranking_model`), and shipped in rerank_model.json.

Grounding uses a separate, absolute confidence: a fixed weighted sum of the first six features
(`ConfidenceWeights`), each in [0, 1], so a weak best hit scores low whatever the other candidates
look like. The threshold (retrieval.DEFAULT_THRESHOLD) was chosen on the same dev set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from helixdesk.knowledge.cues import CUES

BASE_FEATURES = ("dense_q", "dense_a", "bm25", "bm25_q", "coverage", "intent")
FEATURES: tuple[str, ...] = (
    *BASE_FEATURES,
    "intent_top",
    "bm25_q_rel",
    "dense_q2",
    *(f"cue_{c}" for c in CUES),
    *(f"cue_missing_{c}" for c in CUES),
)
BM25_SATURATION = 8.0
MODEL_FILE = Path(__file__).with_name("rerank_model.json")

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ConfidenceWeights:
    """The grounding confidence: a weighted sum of the (absolute) base features of the best hit."""

    dense_q: float = 0.45
    dense_a: float = 0.2
    bm25: float = 0.1
    bm25_q: float = 0.0
    coverage: float = 0.1
    intent: float = 0.1

    def vector(self) -> FloatMatrix:
        return np.array([getattr(self, name) for name in BASE_FEATURES], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class RankingModel:
    """Linear ranking weights by feature name (a feature without a weight counts 0)."""

    weights: dict[str, float]
    note: str = ""
    _vector: FloatMatrix = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(FEATURES))
        if unknown:
            raise ValueError(f"unknown re-ranking features {unknown}; known: {', '.join(FEATURES)}")
        vector = np.array([self.weights.get(name, 0.0) for name in FEATURES], dtype=np.float64)
        object.__setattr__(self, "_vector", vector)

    def vector(self) -> FloatMatrix:
        return self._vector

    @classmethod
    def from_file(cls, path: Path) -> RankingModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights={k: float(v) for k, v in data["weights"].items()}, note=str(data.get("note", "")))

    @classmethod
    def default(cls) -> RankingModel:
        """The shipped weights (rerank_model.json, learned on bench/data/kb_dev.jsonl)."""
        return cls.from_file(MODEL_FILE)

    def save(self, path: Path) -> None:
        data = {"note": self.note, "weights": {k: round(v, 4) for k, v in self.weights.items()}}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """First stage: fused = bm25_weight * bm25 / max(bm25) + (1 - bm25_weight) * max(dense_q, dense_a)."""

    bm25_weight: float = 0.4
    candidates: int = 20


def fit_ranking_model(
    groups: Sequence[tuple[FloatMatrix, npt.NDArray[np.bool_]]],
    *,
    l2: float = 3e-3,
    steps: int = 800,
    learning_rate: float = 0.05,
    note: str = "",
) -> RankingModel:
    """Learn linear weights from (candidate features (n, len(FEATURES)), is-right (n,)) per question.

    Listwise softmax loss (the probability the model gives the right candidates of each question)
    with L2 regularisation, minimised with Adam. Questions without a right candidate are skipped.
    """
    data = [
        (x, right / right.sum()) for x, right in ((x, r.astype(np.float64)) for x, r in groups) if right.any()
    ]
    if not data:
        raise ValueError("no question has a right candidate to learn from")
    w = np.zeros(len(FEATURES))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for step in range(1, steps + 1):
        grad = l2 * w
        for x, target in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad = grad + x.T @ (p - target) / len(data)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w = w - learning_rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return RankingModel(weights=dict(zip(FEATURES, (float(x) for x in w), strict=True)), note=note)


__all__ = [
    "BASE_FEATURES",
    "BM25_SATURATION",
    "FEATURES",
    "ConfidenceWeights",
    "FusionWeights",
    "RankingModel",
    "fit_ranking_model",
]
