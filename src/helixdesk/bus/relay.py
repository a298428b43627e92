"""The outbox relay: publishes stored events to the bus, in order, at least once.

Every process runs one; the one holding the `outbox-relay` lease does the work, so events are
published in one order. Each cycle reads the oldest unpublished events, numbers them with the next
`log_seq` values, publishes them, then marks them published. A process that dies between publishing
and marking leaves them unpublished: the next holder publishes them again with the same numbers
(consumers are idempotent by `event_id`). A process that dies before publishing loses nothing: the
events are in the log, and the next holder of the lease publishes them after it starts.

A writer calls `poke()` after it commits, so the holder publishes at once; other processes' events
are found by polling every `poll_interval` seconds. Under load a cycle waits `gather_seconds`
after the last, so one cycle publishes the events of many turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta

import anyio
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.outbox import last_log_seq, mark_published, unpublished
from helixdesk.bus.protocol import EventBus
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event
from helixdesk.db.lease import release, try_acquire
from helixdesk.db.session import reading, transaction

log = logging.getLogger(__name__)

LEASE = "outbox-relay"


class OutboxRelay:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        bus: EventBus,
        poll_interval: float = 0.1,
        lease_seconds: float = 10.0,
        batch: int = 500,
        gather_seconds: float = 0.02,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._poll = poll_interval
        self._lease = timedelta(seconds=lease_seconds)
        self._batch = batch
        self._gather = gather_seconds
        self.holder = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._held_until = utcnow() - timedelta(seconds=1)
        self._seq: int | None = None  # the last log_seq handed out, while holding the lease
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._cycle_lock = asyncio.Lock()

    # ---- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Publish what is pending (best effort), then give the lease up."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.flush()
        with contextlib.suppress(Exception):
            await anyio.to_thread.run_sync(self._release)

    def poke(self) -> None:
        """Something was committed: publish now (safe from any thread)."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    async def flush(self) -> int:
        """Publish everything stored so far (if this process holds the lease); returns how many."""
        total = 0
        while True:
            done = await self._cycle()
            total += done
            if done < self._batch:
                return total

    # ---- work -----------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                if await self.flush():
                    # Busy: let a few more commits gather, so one cycle (one write to mark them
                    # published) serves many turns instead of one each.
                    await asyncio.sleep(self._gather)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the outbox relay failed; retrying")
                await asyncio.sleep(min(1.0, self._poll * 5))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()

    async def _cycle(self) -> int:
        async with self._cycle_lock:
            batch = await anyio.to_thread.run_sync(self._take)
            if not batch:
                return 0
            events = [e for _, e in batch]
            await self._bus.publish_many(events)
            await anyio.to_thread.run_sync(
                self._mark, [(p, e.log_seq) for p, e in batch if e.log_seq is not None]
            )
            return len(batch)

    def _take(self) -> list[tuple[int, Event]]:
        """The next events to publish, numbered, if this process holds (or can take) the lease."""
        now = utcnow()
        if self._held_until - now < self._lease / 2:
            with transaction(self._sessions) as s:
                if not try_acquire(s, LEASE, self.holder, ttl=self._lease, now=now):
                    self._held_until = now - timedelta(seconds=1)
                    self._seq = None
                    return []
            self._held_until = now + self._lease
        with reading(self._sessions) as s:
            pending = unpublished(s, limit=self._batch)
            if not pending:
                return []
            if self._seq is None:  # just took the lease: another holder may have numbered events
                self._seq = last_log_seq(s)
            seq = self._seq
        numbered: list[tuple[int, Event]] = []
        for position, event in pending:
            seq += 1
            numbered.append((position, event.model_copy(update={"log_seq": seq})))
        self._seq = seq
        return numbered

    def _mark(self, numbered: list[tuple[int, int]]) -> None:
        try:
            with transaction(self._sessions) as s:
                mark_published(s, numbered)
        except Exception:
            self._seq = None  # numbers may clash with another holder's: read them again
            raise

    def _release(self) -> None:
        with transaction(self._sessions) as s:
            release(s, LEASE, self.holder)
        self._held_until = utcnow() - timedelta(seconds=1)
        self._seq = None
