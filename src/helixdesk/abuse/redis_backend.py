"""`RedisRateLimiter`: counters shared by every worker and host, one atomic Lua script per check.

The script reads the key's TAT, applies the same GCRA step as `protocol.gcra` and writes the new
TAT with an expiry (so idle keys vanish). The caller's clock is passed in, so all workers must
keep their clocks in sync (NTP), as they must for everything else time-based.

If Redis cannot be reached the request is allowed (fail open) and a warning is logged at most
once a minute: rate limiting protects the service, it must not take it down.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from helixdesk.abuse.protocol import Decision

log = logging.getLogger(__name__)

# KEYS[1] key; ARGV now (s), window (s), limit. Returns {allowed, remaining, retry_after_ms}.
GCRA_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local interval = window / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if allow_at > now then
  return {0, 0, math.ceil((allow_at - now) * 1000)}
end
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
return {1, math.floor((window - (new_tat - now)) / interval + 1e-9), 0}
"""


class RedisRateLimiter:
    def __init__(
        self, *, url: str, prefix: str = "helixdesk:rl:", clock: Callable[[], float] = time.time
    ) -> None:
        self._redis: Any = aioredis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._redis.register_script(GCRA_LUA)
        self._prefix = prefix
        self._clock = clock
        self._warned_at = -math.inf

    async def hit(self, key: str, *, limit: int, window: float) -> Decision:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        try:
            allowed, remaining, retry_ms = await self._script(
                keys=[self._prefix + key], args=[repr(self._clock()), repr(float(window)), limit]
            )
        except (RedisError, OSError) as e:
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("rate limiter: Redis unavailable (%s); requests are not limited", e)
            return Decision(True, limit, limit, 0.0)
        return Decision(bool(allowed), limit, int(remaining), int(retry_ms) / 1000)

    async def close(self) -> None:
        await self._redis.aclose()
