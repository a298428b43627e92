"""Cosine similarity of a query vector to every chunk's stored vectors, max-pooled per chunk.

Each chunk has several rows (its question in each language, its answer texts); `scores` returns the
best question/heading cosine and the best answer/body cosine of every chunk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from helixdesk.nlu.embeddings import FloatArray


class DenseIndex:
    def __init__(self, *, vectors: Sequence[FloatArray], kinds: Sequence[str]) -> None:
        self.size = len(vectors)
        dim = vectors[0].shape[1] if vectors else 512
        self._matrix: FloatArray = (
            np.ascontiguousarray(np.vstack(vectors), dtype=np.float32)
            if vectors
            else np.zeros((0, dim), np.float32)
        )
        counts = np.array([v.shape[0] for v in vectors], dtype=np.intp)
        self._starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp) if vectors else counts
        flags = "".join(kinds)
        self._is_q = np.array([c == "q" for c in flags], dtype=bool)

    def scores(self, query: FloatArray) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """(best question cosine, best answer cosine) per chunk; -1 where a chunk has no such row."""
        if self.size == 0:
            empty = np.zeros(0, np.float32)
            return empty, empty
        sims = self._matrix @ query.astype(np.float32).reshape(-1)
        q = np.maximum.reduceat(np.where(self._is_q, sims, -1.0), self._starts).astype(np.float32)
        a = np.maximum.reduceat(np.where(self._is_q, -1.0, sims), self._starts).astype(np.float32)
        return q, a
