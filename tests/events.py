"""Collecting the events a bus delivers, for tests."""

from __future__ import annotations

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.core.events import Event


async def collect_events(bus: MemoryEventBus) -> list[Event]:
    """Subscribe to `bus`, start it, and return the list every delivered event is appended to."""
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    await bus.subscribe("test", handler)
    await bus.start()
    return seen
