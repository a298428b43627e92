"""Text featurisers shared by NLU classifiers (intent, emotion, ...).

`TextFeaturiser` turns normalised text (`helixdesk.nlu.text.normalise`: Simplified, lower-case) into
one sparse row per text, the concatenation of

- character n-gram TF-IDF: 1-4 grams over runs of Chinese characters, 2-5 grams inside Latin words
  (`char_wb` style, so "card" and "cards" share most grams);
- word n-gram TF-IDF: jieba tokens for Chinese, words for English (1-2 grams);
- a sentence embedding (USE-multilingual, `helixdesk.nlu.embeddings.embed`), scaled by `embedding_weight`;
- optionally a multilingual-e5-small embedding, scaled by `e5_weight`.

Precomputed embeddings can be passed as `{"use": array, "e5": array}` to skip the encoders.

The analysers are module-level functions so a fitted featuriser pickles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from helixdesk.nlu.embeddings import FloatArray, e5_embed, embed
from helixdesk.nlu.tfidf import tfidf_rows

# What the analysers read: a run of Chinese characters (group 1) or a Latin word of letters and digits,
# with an optional apostrophe suffix ("don't", "card's") (group 2). Everything else (spaces,
# punctuation, other scripts) separates runs and is skipped. `findall` hands over the runs with
# their kind in one C call.
_GRAM_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([a-z0-9]+(?:['’][a-z]+)?)", re.I)

CJK_CHAR_NGRAMS = (1, 4)
Embeddings = Mapping[str, FloatArray]
LATIN_CHAR_NGRAMS = (2, 5)
# Runs longer than this are cut without the slice cache, so one huge message cannot fill it.
_MAX_CACHED_RUN = 64


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba logs "Building prefix dict..." to stderr on first use
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Word tokens: jieba for runs of Chinese characters, letters/digits for everything else."""
    tokens: list[str] = []
    for cjk, word in _GRAM_RUNS.findall(text):
        if cjk:
            tokens.extend(t for t in _jieba().lcut(cjk, HMM=True) if t.strip())
        else:
            tokens.append(word)
    return tokens


def word_ngrams(text: str) -> list[str]:
    """Word unigrams and bigrams (bigrams joined with a space)."""
    tokens = tokenize(text)
    return [*tokens, *map(" ".join, pairwise(tokens))]


def _slices(size: int, lo: int, hi: int) -> tuple[slice, ...]:
    return tuple(slice(i, i + n) for n in range(lo, min(hi, size) + 1) for i in range(size - n + 1))


_cached_slices = lru_cache(maxsize=4 * _MAX_CACHED_RUN)(_slices)


def _grams(run: str, lo: int, hi: int) -> map[str]:
    """The lo..hi-grams of `run`: every lo-gram left to right, then every (lo+1)-gram, and so on.

    The slices for a run length are built once and applied through `map`, so cutting a gram costs
    no Python bytecode (a generator expression runs a few bytecodes per gram, and a message has
    hundreds of grams).
    """
    size = len(run)
    slices = _cached_slices(size, lo, hi) if size <= _MAX_CACHED_RUN else _slices(size, lo, hi)
    return map(run.__getitem__, slices)


def char_ngrams(text: str) -> list[str]:
    """1-4 grams over Chinese runs; 2-5 grams over space-padded Latin words."""
    grams: list[str] = []
    for cjk, word in _GRAM_RUNS.findall(text):
        if cjk:
            grams.extend(_grams(cjk, *CJK_CHAR_NGRAMS))
        else:
            grams.extend(_grams(f" {word} ", *LATIN_CHAR_NGRAMS))
    return grams


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    char_tfidf: bool = True
    word_tfidf: bool = True
    embedding_weight: float = 2.0  # USE-multilingual block weight; 0 turns it off
    e5_weight: float = 0.0  # multilingual-e5-small block weight (about 10x slower than USE); 0 = off
    min_df: int = 2
    max_features: int | None = 200_000


class TextFeaturiser:
    """Fit on training texts, then `transform` any texts to a CSR matrix of float32."""

    def __init__(self, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        self._char: TfidfVectorizer | None = None
        self._word: TfidfVectorizer | None = None

    @staticmethod
    def _vectorizer(analyzer: Callable[[str], list[str]], config: FeatureConfig) -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer=analyzer,
            sublinear_tf=True,
            min_df=config.min_df,
            max_features=config.max_features,
            dtype=np.float32,
        )

    def fit(self, texts: Sequence[str], embeddings: Embeddings | None = None) -> sp.csr_matrix:
        """Fit the vectorisers and return the training matrix (`embeddings` may be precomputed)."""
        cfg = self.config
        blocks: list[Any] = []
        if cfg.char_tfidf:
            self._char = self._vectorizer(char_ngrams, cfg)
            blocks.append(self._char.fit_transform(texts))
        if cfg.word_tfidf:
            self._word = self._vectorizer(word_ngrams, cfg)
            blocks.append(self._word.fit_transform(texts))
        blocks.extend(sp.csr_matrix(b) for b in self._embedding_blocks(texts, embeddings))
        return self._stack(blocks)

    def transform(self, texts: Sequence[str], embeddings: Embeddings | None = None) -> sp.csr_matrix:
        return self._stack([sp.csr_matrix(b) for b in self.transform_blocks(texts, embeddings)])

    def transform_blocks(
        self, texts: Sequence[str], embeddings: Embeddings | None = None
    ) -> list[sp.csr_matrix | FloatArray]:
        """The feature blocks in column order, unstacked: sparse TF-IDF blocks, dense embedding blocks.

        A linear model scores them block by block (`block @ coef[:, cols]`), which skips the
        stacking; the TF-IDF rows are computed directly from the fitted vocabulary and idf, several
        times faster than `TfidfVectorizer.transform` for the one-message case.
        """
        blocks: list[sp.csr_matrix | FloatArray] = []
        for vectorizer in (self._char, self._word):
            if vectorizer is not None:
                blocks.append(tfidf_rows(vectorizer, texts))
        blocks.extend(self._embedding_blocks(texts, embeddings))
        return blocks

    def _embedding_blocks(self, texts: Sequence[str], embeddings: Embeddings | None) -> list[FloatArray]:
        """The weighted embedding blocks, dense (callers that stack them make them sparse)."""
        given = embeddings or {}
        blocks: list[FloatArray] = []
        for key, weight, encode in (
            ("use", self.config.embedding_weight, embed),
            ("e5", self.config.e5_weight, e5_embed),
        ):
            if weight > 0:
                vectors = given.get(key)
                if vectors is None:
                    vectors = encode(texts)
                blocks.append(vectors * np.float32(weight))
        return blocks

    @staticmethod
    def _stack(blocks: list[Any]) -> sp.csr_matrix:
        if not blocks:
            raise ValueError("the featuriser has no feature blocks enabled")
        return sp.csr_matrix(sp.hstack(blocks, format="csr", dtype=np.float32))
