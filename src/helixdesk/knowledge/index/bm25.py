"""Okapi BM25 over token tuples with precomputed postings (a few hundred chunks: microseconds a query)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


class BM25Index:
    def __init__(self, *, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        avg = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        norm = k1 * (1.0 - b + b * lengths / avg)
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(docs):
            for token, tf in Counter(doc).items():
                postings.setdefault(token, []).append((i, tf))
        self._postings: dict[str, tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]] = {}
        for token, items in postings.items():
            idx = np.array([i for i, _ in items], dtype=np.intp)
            freq = np.array([t for _, t in items], dtype=np.float64)
            idf = math.log(1.0 + (self.size - len(items) + 0.5) / (len(items) + 0.5))
            self._postings[token] = (idx, idf * freq * (k1 + 1.0) / (freq + norm[idx]))

    def scores(self, query: Sequence[str]) -> npt.NDArray[np.float64]:
        """BM25 score of every document for the query tokens (a repeated token counts once)."""
        out = np.zeros(self.size, dtype=np.float64)
        for token in dict.fromkeys(query):
            hit = self._postings.get(token)
            if hit is not None:
                out[hit[0]] += hit[1]
        return out

    def idf_mass(self, query: Sequence[str]) -> float:
        """How much of the query the index knows at all (0 when no token occurs anywhere)."""
        return float(sum(1 for t in dict.fromkeys(query) if t in self._postings))
