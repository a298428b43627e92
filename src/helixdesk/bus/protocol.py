"""The `EventBus` protocol and the idempotent-consumer helper.

Delivery semantics, shared by every implementation (tests/contract/test_event_bus.py):
- every subscription *group* receives every event published after the group was created;
- delivery is at-least-once: an event whose handler raises is delivered to the group again;
- within a group, events are handled one at a time, in publish order per publisher.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

from helixdesk.core.events import Event, event_from_json

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    async def publish_many(self, events: Sequence[Event]) -> None:
        """Publish in order (one round trip where the bus allows)."""
        ...

    async def subscribe(self, group: str, handler: Handler, *, ephemeral: bool = False) -> None:
        """Deliver every later event to `handler` as member of `group`.

        An `ephemeral` group lives only as long as this process (live fan-out to WebSockets).
        """
        ...


@runtime_checkable
class KeepingBus(Protocol):
    """A bus that keeps events for a while (Redis Streams, NATS JetStream): erasure reaches it."""

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def forget_conversations(self, conversation_ids: Sequence[str]) -> int:
        """Delete these conversations' events from the bus."""
        ...


class SeenEvents(Protocol):
    """Which event ids a consumer group has already handled."""

    async def first_time(self, group: str, event_id: str) -> bool:
        """Record `event_id` for `group`; False when it was recorded before."""
        ...

    async def forget(self, group: str, event_id: str) -> None: ...


class MemorySeenEvents:
    """Remembers the most recent event ids per group (bounded)."""

    def __init__(self, *, capacity: int = 100_000) -> None:
        self._seen: dict[str, OrderedDict[str, None]] = {}
        self._capacity = capacity

    async def first_time(self, group: str, event_id: str) -> bool:
        seen = self._seen.setdefault(group, OrderedDict())
        if event_id in seen:
            return False
        seen[event_id] = None
        if len(seen) > self._capacity:
            seen.popitem(last=False)
        return True

    async def forget(self, group: str, event_id: str) -> None:
        self._seen.get(group, OrderedDict()).pop(event_id, None)


async def deliver(handler: Handler, group: str, raw: str | bytes) -> bool:
    """Hand one stored event (its JSON) to a group's handler. True: done with it (handled, or
    unreadable and dropped); False: the handler failed and the event must be delivered again."""
    try:
        event = event_from_json(raw.decode() if isinstance(raw, bytes) else raw)
    except Exception:
        log.exception("dropping an unreadable event in group %s", group)
        return True
    try:
        await handler(event)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("handler of group %s failed on %s; it is delivered again", group, event.type)
        return False
    return True


def idempotent(group: str, handler: Handler, seen: SeenEvents) -> Handler:
    """Wrap a handler so that a redelivered event (same `event_id`) takes effect once.

    A failed attempt is forgotten, so the redelivery runs the handler again.
    """

    async def run(event: Event) -> None:
        if not await seen.first_time(group, event.event_id):
            log.debug("skipping event %s already handled by %s", event.event_id, group)
            return
        try:
            await handler(event)
        except BaseException:
            await seen.forget(group, event.event_id)
            raise

    return run
