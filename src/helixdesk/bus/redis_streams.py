"""Redis Streams event bus: consumer groups, acknowledgement, at-least-once delivery across workers.

Events are appended with XADD to one stream. Each subscription group is a Redis consumer group;
every process joins it with its own consumer name. A handler's success is acknowledged with XACK.
An entry whose handler failed stays pending and is retried by the same consumer; entries left
pending by a consumer that died are claimed by another after `claim_idle_ms` (XAUTOCLAIM).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from helixdesk.bus.protocol import Handler
from helixdesk.core.events import Event, event_from_json, event_to_json

log = logging.getLogger(__name__)


class RedisSeenEvents:
    """Idempotency records in Redis, shared by every worker of a group (expire after `ttl_s`)."""

    def __init__(self, redis: Redis, *, prefix: str = "helixdesk:seen", ttl_s: int = 7 * 24 * 3600) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_s

    async def first_time(self, group: str, event_id: str) -> bool:
        return bool(await self._redis.set(f"{self._prefix}:{group}:{event_id}", 1, nx=True, ex=self._ttl))

    async def forget(self, group: str, event_id: str) -> None:
        await self._redis.delete(f"{self._prefix}:{group}:{event_id}")


class RedisStreamsEventBus:
    def __init__(
        self,
        *,
        url: str,
        stream: str = "helixdesk:events",
        maxlen: int = 200_000,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        retry_delay: float = 0.05,
    ) -> None:
        self._url = url
        self.stream = stream
        self._maxlen = maxlen
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._retry_delay = retry_delay
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._redis: Redis | None = None
        self._subs: dict[str, tuple[Handler, bool]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._readers: list[Redis] = []
        self._running = False

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            raise RuntimeError("the Redis event bus is not started")
        return self._redis

    async def start(self) -> None:
        self._redis = Redis.from_url(self._url, decode_responses=True)
        await self._redis.ping()
        self._running = True
        for group in self._subs:
            await self._ensure_group(group)
            self._spawn(group)

    async def stop(self) -> None:
        # Let consumers leave their loop at the end of the current blocking read: cancelling a
        # blocking XREADGROUP can leave redis-py's connection stuck, so cancel only stragglers.
        self._running = False
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self._block_ms / 1000 + 1.0)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self._tasks.clear()
        if self._redis is not None:
            for group, (_, ephemeral) in self._subs.items():
                if ephemeral:
                    with contextlib.suppress(ResponseError):
                        await self._redis.xgroup_destroy(self.stream, group)
            await self._redis.aclose()
            self._redis = None
        for reader in self._readers:
            await _close_quietly(reader)
        self._readers.clear()

    async def publish(self, event: Event) -> None:
        await self.redis.xadd(
            self.stream, {"event": event_to_json(event)}, maxlen=self._maxlen, approximate=True
        )

    async def publish_many(self, events: Sequence[Event]) -> None:
        """Append every event in one round trip (a transaction-free pipeline keeps their order)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(self.stream, {"event": event_to_json(event)}, maxlen=self._maxlen, approximate=True)
            await pipe.execute()

    async def subscribe(self, group: str, handler: Handler, *, ephemeral: bool = False) -> None:
        if group in self._subs:
            raise ValueError(f"group {group!r} already has a consumer in this process")
        self._subs[group] = (handler, ephemeral)
        if self._running:
            await self._ensure_group(group)
            self._spawn(group)

    async def _ensure_group(self, group: str) -> None:
        try:
            await self.redis.xgroup_create(self.stream, group, id="$", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def _spawn(self, group: str) -> None:
        if group not in self._tasks:
            self._tasks[group] = asyncio.create_task(self._consume(group), name=f"bus:{group}")

    async def _consume(self, group: str) -> None:
        handler, _ = self._subs[group]
        reader: Redis = Redis.from_url(self._url, decode_responses=True)
        self._readers.append(reader)
        pending_first = True
        while self._running:
            try:
                if pending_first:
                    # Our own pending entries (failed earlier), then entries abandoned by dead consumers.
                    entries = await self._read(reader, group, "0")
                    claimed = await self._claim(reader, group)
                    entries += claimed
                    pending_first = bool(entries)
                    if not entries:
                        continue
                else:
                    entries = await self._read(reader, group, ">", block=self._block_ms)
                failed = False
                for entry_id, fields in entries:
                    if await self._handle(handler, group, fields):
                        await reader.xack(self.stream, group, entry_id)
                    else:
                        failed = True
                if failed:
                    pending_first = True
                    await asyncio.sleep(self._retry_delay)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Redis consumer %s of group %s failed; retrying", self._consumer, group)
                await asyncio.sleep(0.5)

    async def _read(
        self, reader: Redis, group: str, start: str, *, block: int | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        response: Any = await reader.xreadgroup(
            group, self._consumer, {self.stream: start}, count=100, block=block
        )
        entries: list[tuple[str, dict[str, Any]]] = []
        for _stream, items in response or []:
            entries += [(str(entry[0]), dict(entry[1])) for entry in items if entry[1]]
        return entries

    async def _claim(self, reader: Redis, group: str) -> list[tuple[str, dict[str, Any]]]:
        result = await reader.xautoclaim(
            self.stream, group, self._consumer, min_idle_time=self._claim_idle_ms, start_id="0-0", count=100
        )
        claimed: list[tuple[str, dict[str, Any]]] = [(str(e[0]), dict(e[1])) for e in result[1] if e[1]]
        return claimed

    async def _handle(self, handler: Handler, group: str, fields: dict[str, Any]) -> bool:
        try:
            event = event_from_json(fields["event"])
        except Exception:
            log.exception("dropping an unreadable entry in group %s", group)
            return True
        try:
            await handler(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handler of group %s failed on %s; it stays pending", group, event.type)
            return False
        return True


async def _close_quietly(reader: Redis) -> None:
    """Close a reader connection, giving up after a second (it may be stuck after a cancel)."""
    try:
        await asyncio.wait_for(reader.aclose(), timeout=1.0)
    except (TimeoutError, OSError, RedisError) as e:
        log.warning("closing a Redis reader failed: %s", e)
