"""Live fan-out of conversation events to this process's WebSocket and SSE connections.

Each process joins the bus with its own ephemeral group, so every worker sees every event and
passes it to the connections it holds: customers' sockets listen to one conversation, agents'
consoles listen to everything (and filter by their queues).

The event log is the source of truth, the bus only the fast path. Every published event has its
place in the log (`log_seq`), and the hub passes events on in that order, each once:
- an event that arrives after a gap (the bus lost some: Redis restarted, a group was re-created)
  is preceded by the missing ones, read from the log;
- every `poll_seconds` the hub also looks at the log itself, so live updates keep flowing, a little
  later, while the bus delivers nothing at all;
- a console that stops reading is cut off (`overflowed`) rather than silently skipped: its browser
  reconnects with the last id it saw and replays the rest (`replay`);
- when the server shuts down (`drain`), every stream is told to go, so shutdown never waits on an
  open connection, and browsers reconnect to a server that is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict

import anyio
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.outbox import last_log_seq, read_log
from helixdesk.bus.protocol import EventBus
from helixdesk.core.events import Event
from helixdesk.db.session import reading

log = logging.getLogger(__name__)

CONSOLE_QUEUE = 10_000  # events a console may fall behind by before it is cut off


class LiveHub:
    def __init__(
        self, *, bus: EventBus, sessions: sessionmaker[Session], poll_seconds: float = 1.0, batch: int = 500
    ) -> None:
        self._bus = bus
        self._sessions = sessions
        self._poll = poll_seconds
        self._batch = batch
        self._listeners: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._everything: set[asyncio.Queue[Event]] = set()
        self.overflowed: set[asyncio.Queue[Event]] = set()
        self.group = f"live-{uuid.uuid4().hex[:12]}"
        self._last: int | None = None  # the newest log_seq passed on
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.draining = asyncio.Event()

    async def start(self) -> None:
        self._last = await anyio.to_thread.run_sync(self.newest)
        await self._bus.subscribe(self.group, self._dispatch, ephemeral=True)
        self._task = asyncio.create_task(self._watch(), name="live:watch")

    async def stop(self) -> None:
        self.drain()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def drain(self) -> None:
        """The server is shutting down: open streams end now (safe to call more than once)."""
        self.draining.set()

    # ---- from the bus and the log, in log order ----------------------------------------------------

    async def _dispatch(self, event: Event) -> None:
        async with self._lock:
            seq = event.log_seq
            if seq is None or self._last is None:
                self._fan_out(event)
                return
            if seq <= self._last:
                return  # passed on already (from the log, or a redelivery)
            if seq > self._last + 1:
                await self._catch_up(until=seq - 1)
            self._fan_out(event)
            self._last = max(self._last, seq)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            try:
                async with self._lock:
                    await self._catch_up(until=None)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the database may be down for a while
                log.warning("live updates could not read the event log: %s", e)

    async def _catch_up(self, *, until: int | None) -> None:
        """Pass on the logged events after the last one passed on (up to `until`). Lock held."""
        assert self._last is not None
        while until is None or self._last < until:
            after = self._last
            events = await anyio.to_thread.run_sync(self._read, after)
            for event in events:
                if until is not None and (event.log_seq or 0) > until:
                    return
                self._fan_out(event)
                self._last = max(self._last, event.log_seq or after)
            if len(events) < self._batch:
                return

    def _read(self, after: int) -> list[Event]:
        with reading(self._sessions) as s:
            return read_log(s, after_seq=after, limit=self._batch)

    def newest(self) -> int:
        """The place of the newest logged event. A page reads it before its data, and its live
        stream starts after it (`?after=`), so nothing that happens while the page loads is missed."""
        with reading(self._sessions) as s:
            return last_log_seq(s)

    def _fan_out(self, event: Event) -> None:
        for queue in list(self._listeners.get(event.conversation_id, ())):
            queue.put_nowait(event)
        for queue in list(self._everything):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A console that stopped reading: its stream ends, and it replays on reconnect.
                self.overflowed.add(queue)

    # ---- connections -----------------------------------------------------------------------------

    def listen(self, conversation_id: str) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listeners[conversation_id].add(queue)
        return queue

    def unlisten(self, conversation_id: str, queue: asyncio.Queue[Event]) -> None:
        listeners = self._listeners.get(conversation_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[conversation_id]

    def listen_all(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=CONSOLE_QUEUE)
        self._everything.add(queue)
        return queue

    def unlisten_all(self, queue: asyncio.Queue[Event]) -> None:
        self._everything.discard(queue)
        self.overflowed.discard(queue)

    def replay(self, after_seq: int, *, limit: int = 1000) -> list[Event]:
        """Published events after `after_seq` (a reconnecting stream's Last-Event-ID), oldest first."""
        with reading(self._sessions) as s:
            return read_log(s, after_seq=after_seq, limit=limit)

    async def next_event(self, queue: asyncio.Queue[Event], *, timeout: float) -> Event | None:
        """The next event for a connection; None when `timeout` passed without one.

        Raises `StreamEnded` when the server drains or the connection fell too far behind."""
        if queue in self.overflowed:
            raise StreamEnded("overflow")
        if self.draining.is_set():
            raise StreamEnded("shutdown")
        getter = asyncio.ensure_future(queue.get())
        drained = asyncio.ensure_future(self.draining.wait())
        try:
            await asyncio.wait({getter, drained}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            drained.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if self.draining.is_set():
            raise StreamEnded("shutdown")
        return None


class StreamEnded(Exception):
    """A live stream must end: `reason` is "shutdown" or "overflow"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
