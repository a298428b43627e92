"""Live fan-out of conversation events to this process's WebSocket connections.

Each process joins the bus with its own ephemeral group, so every worker sees every event and
passes it to the sockets it holds for that conversation.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

from helixdesk.bus.protocol import EventBus
from helixdesk.events import Event


class LiveHub:
    def __init__(self, *, bus: EventBus) -> None:
        self._bus = bus
        self._listeners: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self.group = f"live-{uuid.uuid4().hex[:12]}"

    async def start(self) -> None:
        await self._bus.subscribe(self.group, self._dispatch, ephemeral=True)

    async def _dispatch(self, event: Event) -> None:
        for queue in list(self._listeners.get(event.conversation_id, ())):
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
