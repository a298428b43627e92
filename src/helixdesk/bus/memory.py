"""In-process event bus for the single-process default."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from helixdesk.bus.protocol import Handler
from helixdesk.core.events import Event

log = logging.getLogger(__name__)


@dataclass
class _Group:
    name: str
    handler: Handler
    queue: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class MemoryEventBus:
    """Each group has a queue and one worker task; a failing handler gets the event again.

    Redelivery is immediate, up to `max_attempts`; after that the event is logged and dropped so one
    poisoned event cannot stall the group forever.
    """

    def __init__(self, *, max_attempts: int = 5, retry_delay: float = 0.05) -> None:
        self._groups: dict[str, _Group] = {}
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._running = False

    async def start(self) -> None:
        self._running = True
        for group in self._groups.values():
            self._spawn(group)

    async def stop(self) -> None:
        self._running = False
        for group in self._groups.values():
            if group.task is not None:
                group.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await group.task
                group.task = None

    async def publish(self, event: Event) -> None:
        for group in self._groups.values():
            group.queue.put_nowait(event)

    async def publish_many(self, events: Sequence[Event]) -> None:
        for event in events:
            await self.publish(event)

    async def subscribe(self, group: str, handler: Handler, *, ephemeral: bool = False) -> None:
        if group in self._groups:
            raise ValueError(f"group {group!r} already has a consumer in this process")
        g = _Group(group, handler)
        self._groups[group] = g
        if self._running:
            self._spawn(g)

    async def unsubscribe(self, group: str) -> None:
        g = self._groups.pop(group, None)
        if g is not None and g.task is not None:
            g.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await g.task

    def _spawn(self, group: _Group) -> None:
        if group.task is None:
            group.task = asyncio.create_task(self._consume(group), name=f"bus:{group.name}")

    async def _consume(self, group: _Group) -> None:
        while True:
            event = await group.queue.get()
            for attempt in range(1, self._max_attempts + 1):
                try:
                    await group.handler(event)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception(
                        "handler of group %s failed on %s (attempt %d)", group.name, event.type, attempt
                    )
                    await asyncio.sleep(self._retry_delay * attempt)
            group.queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued event has been handled (tests and graceful shutdown)."""
        for group in list(self._groups.values()):
            await group.queue.join()
