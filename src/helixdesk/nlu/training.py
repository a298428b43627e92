"""Numeric helpers the intent and emotion models share when they train and predict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from helixdesk.nlu.embeddings import FloatArray

K = TypeVar("K", str, tuple[str, str])


def softmax(scores: FloatArray) -> FloatArray:
    """Row-wise softmax (numerically stable), as float32."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    out: FloatArray = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def stratified_indices(
    keys: Sequence[K], fraction: float, seed: int, *, min_group: int
) -> tuple[list[int], list[int]]:
    """Indices (train, held_out), seeded: about `fraction` of each group of equal keys is held out
    (at least one, and at least two stay in train); groups smaller than `min_group` stay in train."""
    rng = np.random.default_rng(seed)
    groups: dict[K, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    train: list[int] = []
    held: list[int] = []
    for key in sorted(groups):
        idx = groups[key]
        rng.shuffle(idx)
        k = 0
        if len(idx) >= min_group and fraction > 0:
            k = min(max(1, round(len(idx) * fraction)), len(idx) - 2)
        held.extend(idx[:k])
        train.extend(idx[k:])
    return sorted(train), sorted(held)
