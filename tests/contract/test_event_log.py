"""The event log on SQLite and PostgreSQL: stored with the change, published in order, consumed once.

- an event exists exactly when its transaction committed;
- the relay publishes in order and numbers what it publishes (`log_seq`), one relay at a time;
- a durable consumer keeps its offset in the same transaction as its own writes, so a consumer
  that fails part-way or restarts resumes where it stopped and counts nothing twice.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helixdesk.bus import outbox
from helixdesk.bus.consumer import ConsumerOffset, DurableConsumer
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.relay import OutboxRelay
from helixdesk.core.events import ConversationStateChanged, Event
from helixdesk.core.priority import thread_policy
from helixdesk.db.session import transaction
from tests.events import collect_events


def _event(n: int, conversation: str = "c1") -> ConversationStateChanged:
    return ConversationStateChanged(conversation_id=conversation, old_state="bot", new_state=f"s{n}")


def _store(sessions, events) -> None:
    with transaction(sessions) as s:
        outbox.record(s, events)


async def test_only_committed_events_are_published_in_order_and_numbered(sessions):
    bus = MemoryEventBus()
    seen = await collect_events(bus)
    _store(sessions, [_event(1), _event(2)])
    with pytest.raises(RuntimeError), transaction(sessions) as s:
        outbox.record(s, [_event(99)])
        raise RuntimeError("the change failed")
    _store(sessions, [_event(3, "c2")])
    relay = OutboxRelay(sessions=sessions, bus=bus)
    assert await relay.flush() == 3
    assert await relay.flush() == 0  # nothing is published twice
    await bus.drain()
    assert [e.new_state for e in seen] == ["s1", "s2", "s3"]
    assert [e.log_seq for e in seen] == [1, 2, 3]
    with sessions() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(outbox.EventRecord)
                .where(outbox.EventRecord.published_at.is_(None))
            )
            == 0
        )
        assert [e.new_state for e in outbox.read_log(s, after_seq=1, limit=10)] == ["s2", "s3"]  # type: ignore[union-attr]


async def test_one_relay_at_a_time_publishes(sessions):
    bus = MemoryEventBus()
    seen = await collect_events(bus)
    _store(sessions, [_event(1)])
    first, second = OutboxRelay(sessions=sessions, bus=bus), OutboxRelay(sessions=sessions, bus=bus)
    assert await first.flush() == 1
    _store(sessions, [_event(2)])
    assert await second.flush() == 0  # the first holds the lease
    assert await first.flush() == 1
    await bus.drain()
    assert [e.log_seq for e in seen] == [1, 2]


class Tally:
    """A consumer's own table would be written by its handler; here a counter per new state."""

    def __init__(self) -> None:
        self.fail_on: str | None = None
        self.handled: list[str] = []

    def __call__(self, s: Session, event: Event) -> None:
        assert isinstance(event, ConversationStateChanged)
        if event.new_state == self.fail_on:
            raise RuntimeError("the consumer broke on this event")
        self.handled.append(event.new_state)
        row = s.get(ConsumerOffset, f"tally:{event.new_state}")
        if row is None:
            s.add(ConsumerOffset(consumer=f"tally:{event.new_state}", log_seq=1))
        else:
            row.log_seq += 1


async def test_a_durable_consumer_resumes_where_it_stopped_and_counts_nothing_twice(sessions):
    bus = MemoryEventBus()
    relay = OutboxRelay(sessions=sessions, bus=bus)
    _store(sessions, [_event(i) for i in range(1, 6)])
    await relay.flush()

    tally = Tally()
    tally.fail_on = "s4"
    consumer = DurableConsumer(name="tally", sessions=sessions, handler=tally, batch=2)
    with pytest.raises(RuntimeError):
        await consumer.catch_up()
    assert consumer.offset() == 2  # the batch s3, s4 failed as a whole: s3 is not kept either
    await consumer.stop()

    tally.fail_on = None
    restarted = DurableConsumer(name="tally", sessions=sessions, handler=tally, batch=2)
    busy = DurableConsumer(name="tally", sessions=sessions, handler=tally, batch=2)
    assert await restarted.catch_up() == 3
    assert restarted.offset() == 5
    _store(sessions, [_event(6)])
    await relay.flush()
    assert await busy.catch_up() == 0  # one process at a time runs a consumer: the other holds it
    assert await restarted.catch_up() == 1
    with sessions() as s:
        counts = {
            row.consumer: row.log_seq
            for row in s.scalars(select(ConsumerOffset).where(ConsumerOffset.consumer.like("tally:%")))
        }
    assert counts == {f"tally:s{i}": 1 for i in range(1, 7)}  # each event counted once


async def test_an_idle_prepare_hands_the_handler_exactly_the_events_it_prepared(sessions):
    """`prepare_at_idle`: reading and computing run on a thread at idle CPU priority, the write
    at normal priority, and an event published in between waits for the next batch."""
    bus = MemoryEventBus()
    relay = OutboxRelay(sessions=sessions, bus=bus)
    _store(sessions, [_event(i) for i in range(1, 6)])
    await relay.flush()

    started, go = threading.Event(), threading.Event()
    seen: dict[str, list] = {"prepared": [], "handled": [], "policies": []}

    def prepare(s: Session, events: list[Event]) -> None:
        seen["policies"].append(("prepare", thread_policy()))
        seen["prepared"].append([e.new_state for e in events])  # type: ignore[attr-defined]
        started.set()
        go.wait(10)

    def handle(s: Session, events: list[Event]) -> None:
        seen["policies"].append(("handle", thread_policy()))
        seen["handled"].append([e.new_state for e in events])  # type: ignore[attr-defined]

    consumer = DurableConsumer(
        name="idle", sessions=sessions, batch_handler=handle, prepare=prepare, prepare_at_idle=True, batch=10
    )
    running = asyncio.create_task(consumer.catch_up())
    assert await asyncio.to_thread(started.wait, 10)
    _store(sessions, [_event(6)])  # published while the batch is being prepared
    await relay.flush()
    go.set()
    assert await running == 5
    assert seen["handled"] == [["s1", "s2", "s3", "s4", "s5"]]
    assert await consumer.catch_up() == 1
    assert seen["prepared"][-1] == seen["handled"][-1] == ["s6"]
    assert consumer.offset() == 6
    await consumer.stop()
    assert set(seen["policies"]) == {("prepare", "idle"), ("handle", "normal")}


async def test_a_chunked_consumer_writes_a_few_keys_at_a_time_and_resumes_after_a_failure(sessions):
    """`chunk_by`: one short transaction per `chunk_size` keys, in the order of each key's last
    event; a key's handler sees all its events of the batch; a failure keeps what was written."""
    bus = MemoryEventBus()
    relay = OutboxRelay(sessions=sessions, bus=bus)
    # Interleaved: a1 b1 a2 c1 b2 a3 (the last events: c at 4, b at 5, a at 6).
    order = [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("b", 2), ("a", 3)]
    _store(sessions, [_event(n, conversation=c) for c, n in order])
    await relay.flush()
    calls: list[list[str]] = []
    fail_on: set[str] = {"a"}

    def handle(s: Session, events: list[Event]) -> None:
        keys = {e.conversation_id for e in events}
        if keys & fail_on:
            raise RuntimeError("handler failed")
        calls.append([f"{e.conversation_id}{e.new_state[1:]}" for e in events])  # type: ignore[attr-defined]

    def consumer() -> DurableConsumer:
        return DurableConsumer(
            name="chunks",
            sessions=sessions,
            batch_handler=handle,
            chunk_by=lambda e: e.conversation_id,
            chunk_size=1,
        )

    first = consumer()
    with pytest.raises(RuntimeError):
        await first.catch_up()
    assert calls == [["c1"], ["b1", "b2"]]
    assert first.offset() == 5  # c and b are kept; a (its last event at 6) is not
    await first.stop()

    fail_on.clear()
    again = consumer()
    assert await again.catch_up() == 1
    assert calls[-1] == ["a3"]  # resumed after the stored offset: a's latest event
    assert again.offset() == 6
    await again.stop()
