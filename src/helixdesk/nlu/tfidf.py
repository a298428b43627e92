"""TF-IDF rows from a fitted `TfidfVectorizer`, computed fast for the few messages of one batch.

`TfidfVectorizer.transform` is built for large corpora; for the handful of messages of one NLU batch
its per-call overhead dominates. `tfidf_rows` computes the same matrix directly from the fitted
vocabulary and idf, for our settings (a callable analyser, sublinear tf, smooth idf, l2 norm), and
keeps the Python work per n-gram to what runs in C (`Counter`, `map(vocabulary.get, ...)`).

The matrix is bit for bit the one the earlier row-at-a-time version built (the models were
calibrated with it): each row lists its entries in order of first occurrence, its values are
`(log tf + 1) * idf` in float32, and it is divided by `sqrt(np.dot(row, row))`, the same float32
operations in the same order. Only the operations that do not depend on the order of a sum (the
logarithms, products, square roots and divisions) run over the whole batch at once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, pairwise, repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from helixdesk.nlu.embeddings import FloatArray

Analyzer = Callable[[str], list[str]]
IntArray = npt.NDArray[np.int64]

# Larger batches (training, evaluation) are not kept: they are featurised once per model anyway.
_MAX_REMEMBERED = 512


@dataclass(frozen=True, slots=True)
class BatchGrams:
    """The distinct n-grams of a batch of texts, text after text, each with its count.

    Row `i` is `grams[starts[i]:starts[i + 1]]` with counts `tf[starts[i]:starts[i + 1]]`, grams in
    order of first occurrence in the text.
    """

    texts: tuple[str, ...]
    grams: list[str]
    tf: FloatArray
    starts: IntArray


class _LastBatch(threading.local):
    """Per thread and analyser: the n-grams of the latest batch."""

    def __init__(self) -> None:
        self.grams: dict[Analyzer, BatchGrams] = {}


_last_batch = _LastBatch()


def batch_grams(analyzer: Analyzer, texts: Sequence[str]) -> BatchGrams:
    """The n-grams of `texts` by `analyzer`, reused when the previous call on this thread saw them.

    `NLUPipeline.parse_batch` runs the intent stage and then the emotion stage over the same
    normalised texts, and both models use the same analysers (only their vocabularies differ), so
    the second stage finds the batch here already cut and counted. Only the latest batch is kept,
    per thread and analyser (and only up to `_MAX_REMEMBERED` texts): nothing outlives the next
    batch, and no lock is needed.
    """
    key = tuple(texts)
    last = _last_batch.grams.get(analyzer)
    if last is not None and last.texts == key:
        return last
    # A Counter counts in C and keeps its keys in order of first occurrence.
    counters = [Counter(analyzer(t)) for t in key]
    lengths = [len(c) for c in counters]
    total = sum(lengths)
    found = BatchGrams(
        texts=key,
        grams=list(chain.from_iterable(counters)),
        tf=np.fromiter(chain.from_iterable(c.values() for c in counters), np.float32, total),
        starts=np.fromiter(accumulate(lengths, initial=0), np.int64, len(lengths) + 1),
    )
    if len(key) <= _MAX_REMEMBERED:
        _last_batch.grams[analyzer] = found
    return found


def _idf(vectorizer: TfidfVectorizer) -> FloatArray:
    """The fitted idf as float32, converted once per loaded model and kept on the vectorizer."""
    idf: FloatArray | None = getattr(vectorizer, "_helixdesk_idf", None)
    if idf is None:
        idf = np.asarray(vectorizer.idf_, dtype=np.float32)
        vectorizer._helixdesk_idf = idf
    return idf


def tfidf_rows(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sp.csr_matrix:
    """`vectorizer.transform(texts)` as float32 CSR, entries of each row in order of first occurrence."""
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    batch = batch_grams(vectorizer.analyzer, texts)
    # int32 indices when they fit, as scipy would choose; given int64 it scans them to find out.
    index_dtype = np.int32 if max(len(vocabulary), len(batch.grams)) < 2**31 else np.int64
    # The vocabulary index of every distinct n-gram of the batch; -1 for those outside it.
    ids: npt.NDArray[np.signedinteger[Any]]
    ids = np.fromiter(map(vocabulary.get, batch.grams, repeat(-1)), index_dtype, len(batch.grams))
    known = ids >= 0
    indices = ids[known]
    kept = np.zeros(len(ids) + 1, dtype=index_dtype)
    np.cumsum(known, out=kept[1:])
    indptr = kept[batch.starts]
    values: FloatArray = (np.log(batch.tf[known]) + np.float32(1.0)) * _idf(vectorizer)[indices]
    # The norms go through np.dot row by row: a batched sum would add in another order and could
    # round differently in the last bit.
    bounds = indptr.tolist()
    squares = [np.dot(values[a:b], values[a:b]) for a, b in pairwise(bounds)]
    norms = np.sqrt(np.asarray(squares, dtype=np.float32))
    norms[norms == 0] = 1  # an empty row (no known n-gram) stays empty
    values /= np.repeat(norms, np.diff(indptr))
    return sp.csr_matrix((values, indices, indptr), shape=(len(texts), len(vocabulary)))


__all__ = ["BatchGrams", "batch_grams", "tfidf_rows"]
