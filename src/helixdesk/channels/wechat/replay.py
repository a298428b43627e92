"""Replay protection of plain-mode callbacks (an official account without an EncodingAESKey).

In plain mode WeChat's `signature` covers only the token, the timestamp and the nonce, not the
body: one signed query string seen by someone else would let them post any message under it. So a
plain-mode callback is refused (`wechat_replayed`) when

- its timestamp is further than `wechat_timestamp_tolerance_seconds` from this server's clock, or
- its nonce (with its timestamp) was seen before with another body. The same body again is WeChat
  retrying a callback: it is let through, and the message's `MsgId` makes it stored and answered
  once.

Each nonce is remembered for twice the tolerance: in Redis when the event bus is Redis (every
worker and host shares it), else in this process. When Redis cannot be reached, this process's
memory stands in (a warning is logged at most once a minute): a callback is never refused
because Redis is down. Safe mode needs none of this: `msg_signature` covers the encrypted body.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from helixdesk.channels.wechat.errors import WeChatReplayError

log = logging.getLogger(__name__)

_SWEEP_EVERY = 1024


class NonceMemory(Protocol):
    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        """Keep `value` under `key` for `ttl` seconds unless the key is kept already; the value
        kept (this one, or the one kept before)."""
        ...

    async def close(self) -> None: ...


class MemoryNonces:
    """Nonces remembered in this process (one worker, tests, and the stand-in when Redis is down)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._kept: dict[str, tuple[str, float]] = {}
        self._calls = 0

    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        now = self._clock()
        self._calls += 1
        if self._calls % _SWEEP_EVERY == 0:
            self._kept = {k: v for k, v in self._kept.items() if v[1] > now}
        kept = self._kept.get(key)
        if kept is not None and kept[1] > now:
            return kept[0]
        self._kept[key] = (value, now + ttl)
        return value

    def __len__(self) -> int:
        return len(self._kept)

    async def close(self) -> None:
        self._kept.clear()


class RedisNonces:
    """Nonces shared by every worker: `SET key value NX PX ttl`, then the value kept."""

    def __init__(self, *, url: str, prefix: str) -> None:
        self._redis: Any = aioredis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._prefix = prefix
        self._fallback = MemoryNonces()
        self._warned_at = -math.inf

    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        name = self._prefix + key
        try:
            if await self._redis.set(name, value, nx=True, px=max(1, math.ceil(ttl * 1000))):
                return value
            kept = await self._redis.get(name)
        except (RedisError, OSError) as e:
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("WeChat nonces: Redis unavailable (%s); this process remembers them", e)
            return await self._fallback.remember(key, value, ttl=ttl)
        return value if kept is None else kept.decode()  # None: it expired in between

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()


class ReplayGuard:
    def __init__(
        self, *, tolerance_seconds: float, nonces: NonceMemory, clock: Callable[[], float] = time.time
    ) -> None:
        self._tolerance = tolerance_seconds
        self._nonces = nonces
        self._clock = clock

    async def check(self, account: str, timestamp: str, nonce: str, body: bytes) -> None:
        """Refuse a callback too far from now, or a nonce used before with another body."""
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 11:
            raise WeChatReplayError("the timestamp must be whole seconds")
        if abs(self._clock() - int(timestamp)) > self._tolerance:
            raise WeChatReplayError(
                f"the timestamp is more than {self._tolerance:g} s from this server's clock"
            )
        if not nonce or len(nonce) > 64:
            raise WeChatReplayError("the nonce is missing or longer than 64 characters")
        digest = hashlib.sha256(body).hexdigest()
        kept = await self._nonces.remember(f"{account}:{timestamp}:{nonce}", digest, ttl=2 * self._tolerance)
        if kept != digest:
            raise WeChatReplayError("this timestamp and nonce were used before with another message")

    async def close(self) -> None:
        await self._nonces.close()
