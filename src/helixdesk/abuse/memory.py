"""`MemoryRateLimiter`: counters in this process (one worker, tests, per-connection frame limits)."""

from __future__ import annotations

import time
from collections.abc import Callable

from helixdesk.abuse.protocol import Decision, gcra

_SWEEP_EVERY = 4096


class MemoryRateLimiter:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._hits = 0

    async def hit(self, key: str, *, limit: int, window: float) -> Decision:
        return self.hit_now(key, limit=limit, window=window)

    def hit_now(self, key: str, *, limit: int, window: float) -> Decision:
        """The synchronous check (the event loop runs it without awaiting anything)."""
        now = self._clock()
        decision, new_tat = gcra(self._tat.get(key), now, limit=limit, window=window)
        if new_tat is not None:
            self._tat[key] = new_tat
        self._hits += 1
        if self._hits % _SWEEP_EVERY == 0:
            self._sweep(now)
        return decision

    def _sweep(self, now: float) -> None:
        """Forget keys whose TAT is in the past: their next request starts afresh anyway."""
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]

    def forget(self, key: str) -> None:
        self._tat.pop(key, None)

    def __len__(self) -> int:
        return len(self._tat)

    async def close(self) -> None:
        self._tat.clear()
