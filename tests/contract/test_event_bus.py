"""One contract for every EventBus: in-memory, Redis Streams and NATS JetStream (a server of the
test run's own)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from redis.asyncio import Redis

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.nats_jetstream import NatsJetStreamEventBus
from helixdesk.bus.protocol import EventBus, MemorySeenEvents, SeenEvents, idempotent
from helixdesk.bus.redis_streams import RedisSeenEvents, RedisStreamsEventBus
from helixdesk.core.events import ConversationStateChanged, Event
from tests.natsproc import NatsNode

REDIS_URL = "redis://127.0.0.1:6379/0"


def _event(n: int) -> ConversationStateChanged:
    return ConversationStateChanged(conversation_id=f"c{n}", old_state="bot", new_state="with_agent")


@pytest.fixture(scope="session")
def nats_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsNode]:
    node = NatsNode(tmp_path_factory.mktemp("nats"), "single").start()
    yield node
    node.stop()


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("nats", marks=pytest.mark.nats),
    ]
)
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], EventBus]]:
    stream = f"helixdesk:test:{uuid.uuid4().hex}"
    buses: list[EventBus] = []
    nats_url = request.getfixturevalue("nats_node").url if request.param == "nats" else ""

    def factory() -> EventBus:
        bus: EventBus
        if request.param == "memory":
            if buses:  # one process: every "worker" shares the same in-memory bus
                return buses[0]
            bus = MemoryEventBus(retry_delay=0.001)
        elif request.param == "nats":
            name = stream.replace(":", "_")
            bus = NatsJetStreamEventBus(
                servers=[nats_url], stream=name, subject=f"{name}.events", fetch_timeout=0.1, retry_delay=0.01
            )
        else:
            bus = RedisStreamsEventBus(url=REDIS_URL, stream=stream, block_ms=100, retry_delay=0.01)
        buses.append(bus)
        return bus

    yield factory
    for bus in buses:
        await bus.stop()
    if request.param == "redis":
        redis = Redis.from_url(REDIS_URL)
        await redis.delete(stream)
        await redis.aclose()


async def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_every_group_gets_every_event_in_order(make_bus):
    bus = make_bus()
    a: list[Event] = []
    b: list[Event] = []

    async def to_a(e: Event) -> None:
        a.append(e)

    async def to_b(e: Event) -> None:
        b.append(e)

    await bus.subscribe("a", to_a)
    await bus.subscribe("b", to_b)
    await bus.start()
    sent = [_event(i) for i in range(20)]
    for e in sent:
        await bus.publish(e)
    await _wait_for(lambda: len(a) == 20 and len(b) == 20)
    assert [e.event_id for e in a] == [e.event_id for e in sent]
    assert [e.event_id for e in b] == [e.event_id for e in sent]
    assert a[0] == sent[0]  # the typed event survives the round trip


async def test_a_failing_handler_gets_the_event_again(make_bus):
    bus = make_bus()
    attempts: dict[str, int] = {}
    done: list[str] = []

    async def flaky(e: Event) -> None:
        attempts[e.event_id] = attempts.get(e.event_id, 0) + 1
        if attempts[e.event_id] < 3:
            raise RuntimeError("downstream not ready")
        done.append(e.event_id)

    await bus.subscribe("flaky", flaky)
    await bus.start()
    event = _event(1)
    await bus.publish(event)
    await _wait_for(lambda: done == [event.event_id])
    assert attempts[event.event_id] == 3


async def test_idempotent_consumer_applies_a_redelivered_event_once(make_bus, request):
    bus = make_bus()
    seen: SeenEvents
    if isinstance(bus, RedisStreamsEventBus):
        redis = Redis.from_url(REDIS_URL)
        seen = RedisSeenEvents(redis, prefix=f"helixdesk:test-seen:{uuid.uuid4().hex}")
    else:
        seen = MemorySeenEvents()
    applied: list[str] = []

    async def apply(e: Event) -> None:
        applied.append(e.event_id)

    await bus.subscribe("once", idempotent("once", apply, seen))
    await bus.start()
    event = _event(7)
    await bus.publish(event)
    await bus.publish(event)  # the same event delivered twice (at-least-once)
    await bus.publish(_event(8))
    await _wait_for(lambda: len(applied) == 2)
    await asyncio.sleep(0.2)
    assert applied.count(event.event_id) == 1
    if isinstance(seen, RedisSeenEvents):
        await seen._redis.aclose()


async def test_a_group_shared_by_two_workers_handles_each_event_once(make_bus):
    first, second = make_bus(), make_bus()
    handled: list[tuple[str, str]] = []

    def worker(name: str):
        async def handle(e: Event) -> None:
            handled.append((name, e.event_id))

        return handle

    await first.subscribe("shared", worker("w1"))
    if second is not first:
        await second.subscribe("shared", worker("w2"))
        await second.start()
    await first.start()
    events = [_event(i) for i in range(30)]
    for e in events:
        await first.publish(e)
    await _wait_for(lambda: len(handled) >= 30)
    await asyncio.sleep(0.2)
    assert sorted(eid for _, eid in handled) == sorted(e.event_id for e in events)


@pytest.mark.redis
async def test_redis_entries_left_by_a_dead_worker_are_claimed():
    stream = f"helixdesk:test:{uuid.uuid4().hex}"
    dead = RedisStreamsEventBus(url=REDIS_URL, stream=stream, block_ms=100)
    got: list[str] = []

    async def never_acks(e: Event) -> None:
        raise asyncio.CancelledError  # the worker dies mid-handling

    await dead.subscribe("g", never_acks)
    await dead.start()
    event = _event(3)
    await dead.publish(event)
    await asyncio.sleep(0.3)
    await dead.stop()

    alive = RedisStreamsEventBus(url=REDIS_URL, stream=stream, block_ms=100, claim_idle_ms=50)

    async def handle(e: Event) -> None:
        got.append(e.event_id)

    await alive.subscribe("g", handle)
    await alive.start()
    try:
        await _wait_for(lambda: got == [event.event_id])
    finally:
        await alive.stop()
        redis = Redis.from_url(REDIS_URL)
        await redis.delete(stream)
        await redis.aclose()


@pytest.mark.redis
async def test_redis_stream_forgets_a_customers_conversations_and_old_entries():
    stream = f"helixdesk:test:{uuid.uuid4().hex}"
    bus = RedisStreamsEventBus(url=REDIS_URL, stream=stream, retention_seconds=3600)
    await bus.connect()
    try:
        await bus.publish_many([_event(1), _event(2), _event(1), _event(3)])
        assert await bus.forget_conversations(["c1"]) == 2
        left = [json.loads(f["event"])["conversation_id"] for _, f in await bus.redis.xrange(stream)]
        assert left == ["c2", "c3"]
        assert await bus.trim_old() == 0  # younger than the retention
        bus._retention_ms = 0
        await asyncio.sleep(0.01)
        assert await bus.trim_old() == 2
        assert await bus.redis.xlen(stream) == 0
    finally:
        await bus.redis.delete(stream)
        await bus.close()


@pytest.mark.nats
async def test_nats_stream_forgets_a_customers_conversations(nats_node):
    name = f"T{uuid.uuid4().hex[:10]}"
    bus = NatsJetStreamEventBus(servers=[nats_node.url], stream=name, subject=f"{name.lower()}.events")
    await bus.connect()
    try:
        await bus.publish_many([_event(1), _event(2), _event(1), _event(3)])
        assert await bus.forget_conversations(["c1"]) == 1
        info = await bus._js.stream_info(name, subjects_filter=">")
        assert info.state.messages == 2
        assert set(info.state.subjects or {}) == {f"{name.lower()}.events.c2", f"{name.lower()}.events.c3"}
    finally:
        await bus._js.delete_stream(name)
        await bus.close()
