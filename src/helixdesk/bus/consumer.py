"""Durable consumers of the event log: each resumes from the last event it handled.

    consumer = DurableConsumer(name="quality", sessions=sessions, handler=score_event)
    await consumer.start(bus)   # wakes on every published event, polls as a fallback

A consumer reads the published log (`helixdesk.bus.outbox.read_log`) in `log_seq` order. For each
batch its `handler(session, event)` runs in one transaction with the update of the consumer's
offset (`consumer_offsets`); a `batch_handler(session, events)` gets the whole batch at once
instead (to do per-conversation work once per batch), and `prepare(session, events)`, when given,
reads and computes first in a read-only session, outside the write transaction, on the events the
handler then gets. With `prepare_at_idle=True` that reading and computing runs on a thread of its
own at the lowest CPU priority (`helixdesk.core.priority`), while the short write transaction
stays on a thread of normal priority: on a busy machine the consumer falls behind rather than
take CPU from the turn path, and it never holds the database's write lock while starved of CPU.
With `chunk_by` (a key per event, e.g. its conversation), a batch is written in short transactions
of `chunk_size` keys each, `chunk_pause` seconds apart, so the write lock is never held for long.
A change the handler writes is kept exactly when the offset moves past its event: after a crash
the batch runs again from the stored offset, and nothing is counted twice. Handlers that act outside the database must be idempotent by `event.event_id`.
One process at a time runs a given consumer (a lease); the others stand by.
A handler that raises stops its batch; the batch is retried after `retry_delay`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import anyio
from sqlalchemy import BigInteger, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from helixdesk.bus.outbox import EventRecord, read_log
from helixdesk.bus.protocol import EventBus
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event
from helixdesk.core.priority import lower_this_thread
from helixdesk.db.base import Base, UTCDateTime
from helixdesk.db.lease import release, try_acquire
from helixdesk.db.session import reading, transaction

log = logging.getLogger(__name__)

Handler = Callable[[Session, Event], None]
BatchHandler = Callable[[Session, list[Event]], None]
Prepare = Callable[[Session, list[Event]], None]
Batch = tuple[int, list[Event]]  # the offset a batch was read after, and its events


class ConsumerOffset(Base):
    __tablename__ = "consumer_offsets"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    log_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DurableConsumer:
    def __init__(
        self,
        *,
        name: str,
        sessions: sessionmaker[Session],
        handler: Handler | None = None,
        batch_handler: BatchHandler | None = None,
        prepare: Prepare | None = None,
        prepare_at_idle: bool = False,
        chunk_by: Callable[[Event], str | None] | None = None,
        chunk_size: int = 8,
        chunk_pause: float = 0.0,
        batch: int = 200,
        poll_interval: float = 1.0,
        lease_seconds: float = 30.0,
        retry_delay: float = 1.0,
    ) -> None:
        self.name = name
        self._sessions = sessions
        if (handler is None) == (batch_handler is None):
            raise ValueError("give a consumer either handler or batch_handler")
        self._handler = handler
        self._batch_handler = batch_handler
        self._prepare = prepare
        self._idle: ThreadPoolExecutor | None = None
        if prepare is not None and prepare_at_idle:
            self._idle = ThreadPoolExecutor(
                1, thread_name_prefix=f"{name}-idle", initializer=lower_this_thread
            )
        self._batch = batch
        self._chunk_by = chunk_by if batch_handler is not None else None
        self._chunk_size = max(1, chunk_size)
        self._chunk_pause = chunk_pause
        self._poll = poll_interval
        self._lease = timedelta(seconds=lease_seconds)
        self._retry = retry_delay
        self._holder = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, bus: EventBus | None = None) -> None:
        if bus is not None:
            await bus.subscribe(f"wake-{self.name}-{self._holder}", self._on_event, ephemeral=True)
        self._task = asyncio.create_task(self._run(), name=f"consumer:{self.name}")

    async def stop(self) -> None:
        """Stop consuming and give the lease up, so another process resumes at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._idle is not None:
            self._idle.shutdown(wait=True, cancel_futures=True)
            self._idle = None
        await anyio.to_thread.run_sync(self._release)

    def _release(self) -> None:
        with transaction(self._sessions) as s:
            release(s, f"consumer:{self.name}", self._holder)

    async def _on_event(self, _event: Event) -> None:
        self._wake.set()

    async def catch_up(self) -> int:
        """Handle every published event not handled yet; returns how many."""
        total = 0
        while True:
            prepared: Batch | None = None
            if self._idle is not None:
                prepared = await asyncio.wrap_future(self._idle.submit(self._read_phase))
                if not prepared[1]:
                    return total
            done = await anyio.to_thread.run_sync(self._one_batch, prepared)
            total += done
            if done < self._batch:
                return total

    def offset(self) -> int:
        with reading(self._sessions) as s:
            row = s.get(ConsumerOffset, self.name)
            return row.log_seq if row is not None else 0

    async def _run(self) -> None:
        while True:
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer %s failed; it resumes from its last offset", self.name)
                await asyncio.sleep(self._retry)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()

    def _read_phase(self) -> Batch:
        """Read the next batch and run `prepare` on it, outside any write transaction; returns the
        offset it was read after and its events (none when there is nothing new)."""
        assert self._prepare is not None
        with reading(self._sessions) as s:
            row = s.get(ConsumerOffset, self.name)
            after = row.log_seq if row else 0
            events = read_log(s, after_seq=after, limit=self._batch)
            if events:
                self._prepare(s, events)
            return after, events

    def _one_batch(self, prepared: Batch | None = None) -> int:
        """One batch in one write transaction (or, with `chunk_by`, a few); with `prepared`, only
        the events `_read_phase` prepared."""
        upto = int(prepared[1][-1].log_seq or 0) if prepared else None
        if prepared is None:
            with reading(self._sessions) as s:
                newest = int(s.scalar(select(func.max(EventRecord.log_seq))) or 0)
                row = s.get(ConsumerOffset, self.name)
                if row is not None and row.log_seq >= newest:
                    return 0
                if self._prepare is not None:
                    # Heavy reading and computing happen here, before the write transaction, so
                    # the writers of the turn path (SQLite has one write lock) never wait for them.
                    self._prepare(s, read_log(s, after_seq=row.log_seq if row else 0, limit=self._batch))
        if self._chunk_by is not None:
            return self._chunked(prepared)
        return self._write(upto)

    def _write(self, upto: int | None, chunk: list[Event] | None = None, handled: int = 0) -> int:
        """One write transaction: the handler over the events after the offset (up to `upto`),
        then the offset moves past them. With `chunk` (events `_chunked` read, of a few keys),
        the handler gets those, provided the offset is still at `handled`, and the offset moves
        to `upto`."""
        with transaction(self._sessions) as s:
            if not try_acquire(s, f"consumer:{self.name}", self._holder, ttl=self._lease):
                return 0
            offset = s.get(ConsumerOffset, self.name, with_for_update=True)
            if offset is None:
                offset = ConsumerOffset(consumer=self.name, log_seq=0)
                s.add(offset)
            if chunk is not None:
                if upto is None or offset.log_seq != handled:
                    return 0  # another process moved on meanwhile
                events = chunk
            else:
                events = read_log(s, after_seq=offset.log_seq, limit=self._batch)
                if upto is not None:
                    events = [e for e in events if (e.log_seq or 0) <= upto]
                if not events:
                    return 0
            if self._batch_handler is not None:
                if events:
                    self._batch_handler(s, events)
            else:
                assert self._handler is not None
                for event in events:
                    self._handler(s, event)
            last = upto if chunk is not None else events[-1].log_seq
            assert last is not None
            offset.log_seq = last
            offset.updated_at = utcnow()
            return len(events)

    def _key(self, event: Event) -> str:
        assert self._chunk_by is not None
        return self._chunk_by(event) or f"#{event.log_seq}"

    def _chunked(self, prepared: Batch | None) -> int:
        """The batch in short write transactions of `chunk_size` keys each (conversations, say),
        so the write lock is never held long and other writers get turns between them.

        Keys go in the order of their last event in the batch, and each transaction moves the
        offset to the last event of its keys, so every event at or before the offset belongs to a
        key already handled or to one whose later event is still ahead. A key's handler gets all
        of its events in the batch; after a crash mid-batch, a key is handled again with its
        events after the stored offset only, so a chunked handler reads the key's current state
        rather than rebuilding it from the events it is given."""
        if prepared is not None:
            after, events = prepared
        else:
            with reading(self._sessions) as s:
                row = s.get(ConsumerOffset, self.name)
                after = row.log_seq if row else 0
                events = read_log(s, after_seq=after, limit=self._batch)
        last_of: dict[str, int] = {}
        by_key: dict[str, list[Event]] = {}
        for event in events:
            key = self._key(event)
            last_of[key] = int(event.log_seq or 0)
            by_key.setdefault(key, []).append(event)
        ordered = sorted(last_of, key=last_of.__getitem__)
        handled = after
        for i in range(0, len(ordered), self._chunk_size):
            keys = ordered[i : i + self._chunk_size]
            if i and self._chunk_pause:
                time.sleep(self._chunk_pause)  # a writer waiting for the lock goes first
            chunk = sorted((e for k in keys for e in by_key[k]), key=lambda e: e.log_seq or 0)
            if not self._write(last_of[keys[-1]], chunk, handled):
                break
            handled = last_of[keys[-1]]
        return sum(1 for e in events if (e.log_seq or 0) <= handled)
