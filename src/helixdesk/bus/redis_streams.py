"""Redis Streams event bus: consumer groups, acknowledgement, at-least-once delivery across workers.

Events are appended with XADD to one stream. Each subscription group is a Redis consumer group;
every process joins it with its own consumer name. A handler's success is acknowledged with XACK.
An entry whose handler failed stays pending and is retried by the same consumer; entries left
pending by a consumer that died are claimed by another after `claim_idle_ms` (XAUTOCLAIM).

Faults it recovers from by itself:
- Redis restarted without its data (or a group deleted): the read fails with NOGROUP, and the
  consumer re-creates its group from the last entry it delivered, so it resumes where it was;
- Redis unreachable: the consumer retries with a growing pause (up to `max_backoff`), logging the
  outage once and its end once;
- a process killed without cleaning up: its ephemeral groups (live fan-out, wake-ups) are named
  `ephemeral:...`; every process removes those whose consumers have been silent for
  `stale_group_seconds` (live consumers read every `block_ms`, so silence means the process died).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from helixdesk.bus.protocol import Handler, deliver
from helixdesk.core.events import Event, event_to_json

log = logging.getLogger(__name__)

EPHEMERAL = "ephemeral:"  # prefix of the groups that live only as long as their process


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
        max_backoff: float = 2.0,
        stale_group_seconds: float = 300.0,
        retention_seconds: float = 24 * 3600.0,
    ) -> None:
        self._url = url
        self.stream = stream
        self._maxlen = maxlen
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._retry_delay = retry_delay
        self._max_backoff = max_backoff
        self._stale_group_ms = int(stale_group_seconds * 1000)
        self._retention_ms = int(retention_seconds * 1000)
        self._last_ids: dict[str, str] = {}  # per group: the last entry this process delivered
        self._janitor: asyncio.Task[None] | None = None
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

    async def connect(self) -> None:
        """Connect without consuming (commands that only publish, trim or delete)."""
        self._redis = Redis.from_url(self._url, decode_responses=True)
        await self._redis.ping()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def start(self) -> None:
        await self.connect()
        self._running = True
        for group in self._subs:
            await self._ensure_group(group)
            self._spawn(group)
        self._janitor = asyncio.create_task(self._sweep_forever(), name="bus:janitor")

    async def stop(self) -> None:
        # Let consumers leave their loop at the end of the current blocking read: cancelling a
        # blocking XREADGROUP can leave redis-py's connection stuck, so cancel only stragglers.
        self._running = False
        if self._janitor is not None:
            self._janitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._janitor
            self._janitor = None
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
                    with contextlib.suppress(RedisError):
                        await self._redis.xgroup_destroy(self.stream, self._group_name(group, ephemeral))
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

    @staticmethod
    def _group_name(group: str, ephemeral: bool) -> str:
        return f"{EPHEMERAL}{group}" if ephemeral else group

    async def _ensure_group(self, group: str, *, start: str = "$") -> None:
        _, ephemeral = self._subs[group]
        try:
            await self.redis.xgroup_create(
                self.stream, self._group_name(group, ephemeral), id=start, mkstream=True
            )
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def _recreate_group(self, group: str) -> None:
        """The group is gone (Redis lost its data, or someone deleted it): create it again from
        the last entry this process delivered, so nothing after it is skipped."""
        start = self._last_ids.get(group, "$")
        log.warning(
            "consumer group %s of %s is gone (Redis restarted without its data?); re-created from %s",
            group,
            self.stream,
            start,
        )
        await self._ensure_group(group, start=start)

    # ---- removing the groups of processes that died -----------------------------------------------

    async def _sweep_forever(self) -> None:
        while self._running:
            try:
                await self.sweep_stale_groups()
                await self.trim_old()
            except asyncio.CancelledError:
                raise
            except RedisError as e:
                log.debug("sweeping stale consumer groups failed: %s", e)
            await asyncio.sleep(max(1.0, self._stale_group_ms / 1000 / 5))

    async def trim_old(self) -> int:
        """Drop entries older than the retention: the event log, not the stream, is the record."""
        cutoff = int(time.time() * 1000) - self._retention_ms
        return int(await self.redis.xtrim(self.stream, minid=f"{max(cutoff, 0)}-0", approximate=False))

    async def forget_conversations(self, conversation_ids: Sequence[str]) -> int:
        """Delete the entries of these conversations from the stream (a customer's erasure);
        returns how many were deleted."""
        wanted = set(conversation_ids)
        if not wanted:
            return 0
        deleted = 0
        start = "-"
        while True:
            batch: Any = await self.redis.xrange(self.stream, min=start, max="+", count=1000)
            if not batch:
                return deleted
            doomed = []
            for entry_id, fields in batch:
                try:
                    about = json.loads(fields.get("event", "{}")).get("conversation_id")
                except (ValueError, AttributeError):
                    continue
                if about in wanted:
                    doomed.append(entry_id)
            if doomed:
                deleted += int(await self.redis.xdel(self.stream, *doomed))
            if len(batch) < 1000:
                return deleted
            start = f"({batch[-1][0]}"

    async def sweep_stale_groups(self) -> list[str]:
        """Remove ephemeral groups of processes that are gone; returns their names."""
        ours = {self._group_name(g, True) for g, (_, eph) in self._subs.items() if eph}
        removed: list[str] = []
        try:
            groups: Any = await self.redis.xinfo_groups(self.stream)
        except ResponseError:  # no stream yet
            return removed
        now_ms = int(time.time() * 1000)
        for info in groups:
            name = str(info["name"])
            if not name.startswith(EPHEMERAL) or name in ours:
                continue
            consumers: Any = await self.redis.xinfo_consumers(self.stream, name)
            if consumers:
                silent_ms = min(int(c["idle"]) for c in consumers)
            else:  # never read: judge by the last entry delivered to it
                last = str(info.get("last-delivered-id") or "0-0")
                silent_ms = now_ms - int(last.split("-", 1)[0])
            if silent_ms >= self._stale_group_ms:
                with contextlib.suppress(ResponseError):
                    await self.redis.xgroup_destroy(self.stream, name)
                removed.append(name)
        if removed:
            log.info("removed %d consumer groups of processes that are gone: %s", len(removed), removed)
        return removed

    def _spawn(self, group: str) -> None:
        if group not in self._tasks:
            self._tasks[group] = asyncio.create_task(self._consume(group), name=f"bus:{group}")

    async def _consume(self, group: str) -> None:
        handler, ephemeral = self._subs[group]
        name = self._group_name(group, ephemeral)
        reader: Redis = Redis.from_url(self._url, decode_responses=True)
        self._readers.append(reader)
        pending_first = True
        outage_since: float | None = None
        backoff = self._retry_delay
        while self._running:
            try:
                if pending_first:
                    # Our own pending entries (failed earlier), then entries abandoned by dead consumers.
                    entries = await self._read(reader, name, "0")
                    claimed = await self._claim(reader, name)
                    entries += claimed
                    pending_first = bool(entries)
                else:
                    entries = await self._read(reader, name, ">", block=self._block_ms)
                if outage_since is not None:
                    log.warning(
                        "Redis consumer %s of group %s is back after %.1f s",
                        self._consumer,
                        group,
                        time.monotonic() - outage_since,
                    )
                    outage_since, backoff = None, self._retry_delay
                failed = False
                for entry_id, fields in entries:
                    if await deliver(handler, group, fields.get("event", "")):
                        await reader.xack(self.stream, name, entry_id)
                    else:
                        failed = True
                    self._last_ids[group] = entry_id
                if failed:
                    pending_first = True
                    await asyncio.sleep(self._retry_delay)
            except asyncio.CancelledError:
                raise
            except ResponseError as e:
                if "NOGROUP" in str(e):
                    with contextlib.suppress(RedisError):
                        await self._recreate_group(group)
                    pending_first = True
                    await asyncio.sleep(self._retry_delay)  # never a tight loop if it fails again
                    continue
                log.exception("Redis consumer %s of group %s failed; retrying", self._consumer, group)
                await asyncio.sleep(self._max_backoff)
            except (RedisError, OSError) as e:
                if outage_since is None:
                    outage_since = time.monotonic()
                    log.warning("Redis unreachable for group %s (%s); retrying until it is back", group, e)
                await asyncio.sleep(backoff)
                backoff = min(self._max_backoff, backoff * 2)
            except Exception:
                log.exception("Redis consumer %s of group %s failed; retrying", self._consumer, group)
                await asyncio.sleep(self._max_backoff)

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


async def _close_quietly(reader: Redis) -> None:
    """Close a reader connection, giving up after a second (it may be stuck after a cancel)."""
    try:
        await asyncio.wait_for(reader.aclose(), timeout=1.0)
    except (TimeoutError, OSError, RedisError) as e:
        log.warning("closing a Redis reader failed: %s", e)
