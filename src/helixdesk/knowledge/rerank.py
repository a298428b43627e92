"""Second-stage re-ranking of the fused candidates with a few absolute features.

Features of a (query, chunk) pair, each in [0, 1]:
    dense_q   best cosine of the query to the chunk's question (any language) / heading
    dense_a   best cosine of the query to the chunk's answer / body text
    bm25      saturated BM25 over question + answer, bm25 / (bm25 + `saturation`)
    bm25_q    saturated BM25 over the question/heading only
    coverage  share of the query's tokens found in the chunk
    intent    1 when the NLU intent hint is one of the FAQ's intents (0 without a hint)

The score is a weighted sum; the weights and the grounding threshold were tuned on the dev set
bench/data/kb_dev.jsonl and the pack's NLU training examples (never on the held-out questions), by
bench/knowledge_tune.py. Because every feature is absolute (not normalised per query), the score of
the best hit also serves as the grounding confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FEATURES = ("dense_q", "dense_a", "bm25", "bm25_q", "coverage", "intent")


@dataclass(frozen=True, slots=True)
class RerankWeights:
    dense_q: float = 0.45
    dense_a: float = 0.2
    bm25: float = 0.1
    bm25_q: float = 0.0
    coverage: float = 0.1
    intent: float = 0.1
    saturation: float = 8.0

    def vector(self) -> npt.NDArray[np.float64]:
        return np.array([getattr(self, name) for name in FEATURES], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """First stage: fused = bm25_weight * bm25 / max(bm25) + (1 - bm25_weight) * max(dense_q, dense_a)."""

    bm25_weight: float = 0.4
    candidates: int = 20


def saturate(x: npt.NDArray[np.float64], k: float) -> npt.NDArray[np.float64]:
    return x / (x + k)
