"""The `RateLimiter` protocol: one GCRA (generic cell rate algorithm) limit per key.

`hit(key, limit=N, window=W)` counts one request against "N per W seconds": a key may burst up to
N requests at once, then gets one more every W/N seconds. The state per key is one timestamp
(the theoretical arrival time, TAT), so memory is O(active keys) and the Redis backend does the
whole check in one atomic script. Both backends implement the same arithmetic and pass the same
contract tests (tests/contract/test_rate_limiter.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float  # seconds until one more request would be allowed (0 when allowed)

    @property
    def retry_after_seconds(self) -> int:
        """`Retry-After` header value: whole seconds, at least 1."""
        return max(1, math.ceil(self.retry_after))


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window: float) -> Decision:
        """Count one request for `key`; `allowed` is False (and nothing counted) when over the limit."""
        ...

    async def close(self) -> None: ...


def gcra(tat: float | None, now: float, *, limit: int, window: float) -> tuple[Decision, float | None]:
    """One GCRA step: the decision and the new TAT to store (None: unchanged, request refused)."""
    if limit < 1 or window <= 0:
        raise ValueError("a rate limit needs limit >= 1 and window > 0")
    interval = window / limit
    base = max(tat if tat is not None else now, now)
    new_tat = base + interval
    allow_at = new_tat - window
    if allow_at > now:
        return Decision(False, limit, 0, allow_at - now), None
    remaining = int((window - (new_tat - now)) / interval + 1e-9)
    return Decision(True, limit, max(0, remaining), 0.0), new_tat
