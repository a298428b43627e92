"""Collecting the events a bus delivers, and publishing the stored ones, for tests."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.outbox import unpublished
from helixdesk.bus.relay import OutboxRelay
from helixdesk.core.events import Event
from helixdesk.db.session import reading


async def publish_stored(sessions: sessionmaker[Session]) -> None:
    """Publish every stored event into the event log, as the relay of a server does."""
    relay = OutboxRelay(sessions=sessions, bus=MemoryEventBus())
    # Until every stored event is in the log (another relay of this process may hold the lease for
    # a moment and publish them itself).
    for _ in range(200):
        await relay.flush()
        with reading(sessions) as s:
            if not unpublished(s, limit=1):
                break
        await asyncio.sleep(0.05)
    await relay.stop()


async def collect_events(bus: MemoryEventBus) -> list[Event]:
    """Subscribe to `bus`, start it, and return the list every delivered event is appended to."""
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    await bus.subscribe("test", handler)
    await bus.start()
    return seen
