"""Live fan-out of conversation events to this process's WebSocket and SSE connections.

Each process joins the bus with its own ephemeral group, so every worker sees every event and
passes it to the connections it holds: customers' sockets listen to one conversation, agents'
consoles listen to everything (and filter by their queues).

Nothing is lost to a gap: every published event has its place in the event log (`log_seq`), so a
console stream that reconnects replays what it missed from the log (`replay`), and a chat socket
re-reads messages by sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.outbox import read_log
from helixdesk.bus.protocol import EventBus
from helixdesk.core.events import Event
from helixdesk.db.session import reading


class LiveHub:
    def __init__(self, *, bus: EventBus, sessions: sessionmaker[Session]) -> None:
        self._bus = bus
        self._sessions = sessions
        self._listeners: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._everything: set[asyncio.Queue[Event]] = set()
        self.group = f"live-{uuid.uuid4().hex[:12]}"

    async def start(self) -> None:
        await self._bus.subscribe(self.group, self._dispatch, ephemeral=True)

    async def _dispatch(self, event: Event) -> None:
        for queue in list(self._listeners.get(event.conversation_id, ())):
            queue.put_nowait(event)
        for queue in list(self._everything):
            # A console that stopped reading loses live events, not the data: it re-reads on reconnect.
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

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
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=10_000)
        self._everything.add(queue)
        return queue

    def unlisten_all(self, queue: asyncio.Queue[Event]) -> None:
        self._everything.discard(queue)

    def replay(self, after_seq: int, *, limit: int = 1000) -> list[Event]:
        """Published events after `after_seq` (a reconnecting stream's Last-Event-ID), oldest first."""
        with reading(self._sessions) as s:
            return read_log(s, after_seq=after_seq, limit=limit)
