"""Cosine similarity of a query vector to every chunk's stored vectors, pooled per chunk.

Each chunk has several rows (its question in each language and its alternative wordings, its answer
texts); `scores` returns per chunk the best question/heading cosine, the mean of its two best
question cosines, and the best answer/body cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from helixdesk.nlu.embeddings import FloatArray, single_thread_blas


@dataclass(frozen=True, slots=True)
class DenseScores:
    q: npt.NDArray[np.float32]  # best question/heading cosine per chunk (-1 without such a row)
    q2: npt.NDArray[np.float32]  # mean of the two best question cosines (the best when only one)
    a: npt.NDArray[np.float32]  # best answer/body cosine per chunk (-1 without such a row)


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
        self._owner = np.repeat(np.arange(self.size, dtype=np.intp), counts)
        flags = "".join(kinds)
        self._is_q = np.array([c == "q" for c in flags], dtype=bool)

    def scores(self, query: FloatArray) -> DenseScores:
        if self.size == 0:
            empty = np.zeros(0, np.float32)
            return DenseScores(q=empty, q2=empty, a=empty)
        # One BLAS thread: with alternative wordings the matrix has a few thousand rows, where the
        # default thread pool is ~40x slower on a busy 2-core machine (16 ms instead of 0.4 ms).
        with single_thread_blas():
            sims = self._matrix @ query.astype(np.float32).reshape(-1)
        q_sims = np.where(self._is_q, sims, -1.0).astype(np.float32)
        q = np.maximum.reduceat(q_sims, self._starts)
        a = np.maximum.reduceat(np.where(self._is_q, -1.0, sims), self._starts).astype(np.float32)
        # Second best: drop each chunk's best row (its first occurrence) and take the maximum again.
        best_row = np.flatnonzero(q_sims == q[self._owner])
        first = best_row[np.unique(self._owner[best_row], return_index=True)[1]]
        rest = q_sims.copy()
        rest[first] = -1.0
        second = np.maximum.reduceat(rest, self._starts)
        q2 = np.where(second > -1.0, (q + second) / 2, q).astype(np.float32)
        return DenseScores(q=q, q2=q2, a=a)
