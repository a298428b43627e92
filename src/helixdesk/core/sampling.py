"""Stable random samples: whether a key falls in a sample of a given percent, the same answer every
time and in every process (a hash of the key, not a random draw)."""

from __future__ import annotations

import hashlib

BUCKETS = 10_000


def in_stable_sample(key: str, percent: float) -> bool:
    """True for about `percent` % of keys (0: none, 100: all); the same key always answers the same."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(key.encode()).digest()
    bucket = int.from_bytes(digest[:4], "big") % BUCKETS
    return bucket < round(min(percent, 100.0) * BUCKETS / 100)
