"""A replicated event bus survives losing its leader: a private three-node JetStream cluster on
loopback ports, the stream's leader killed mid-traffic, and every event still delivered once to
the group, in order per conversation."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import pytest

from helixdesk.bus.nats_jetstream import NatsJetStreamEventBus
from helixdesk.core.events import ConversationStateChanged, Event
from tests.natsproc import NatsCluster

pytestmark = [pytest.mark.slow, pytest.mark.nats, pytest.mark.faults]

EVENTS = 400
CONVERSATIONS = 10


def _event(n: int) -> ConversationStateChanged:
    return ConversationStateChanged(
        conversation_id=f"c{n % CONVERSATIONS}", old_state="bot", new_state=f"n{n}"
    )


async def _scenario(cluster: NatsCluster) -> tuple[list[Event], list[Event], str]:
    name = f"FAILOVER_{uuid.uuid4().hex[:8]}"

    def bus() -> NatsJetStreamEventBus:
        return NatsJetStreamEventBus(
            servers=cluster.urls,
            stream=name,
            subject=f"{name.lower()}.events",
            replicas=3,
            fetch_timeout=0.2,
            ack_wait_seconds=2,
            publish_timeout=60,
        )

    publisher, consumer = bus(), bus()
    got: list[Event] = []

    async def collect(e: Event) -> None:
        got.append(e)

    await publisher.connect()
    await consumer.subscribe("count", collect)
    await consumer.start()
    sent = [_event(n) for n in range(EVENTS)]
    killed = ""
    try:
        for n, event in enumerate(sent):
            if n == EVENTS // 4:
                info = await publisher._js.stream_info(name)
                killed = info.cluster.leader
                cluster.node(killed).kill()  # the stream's leader dies mid-traffic
            await publisher.publish(event)
        async with asyncio.timeout(90):
            while len({e.event_id for e in got}) < EVENTS:
                await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # anything delivered twice would have arrived by now
    finally:
        await consumer.stop()
        await publisher.close()
    return sent, got, killed


def test_killing_the_stream_leader_loses_no_event_and_keeps_order(tmp_path):
    cluster = NatsCluster(tmp_path).start()
    try:
        sent, got, killed = asyncio.run(_scenario(cluster))
    finally:
        cluster.stop()
    assert killed, "no stream leader was found to kill"
    assert {e.event_id for e in got} == {e.event_id for e in sent}  # none lost
    first_seen: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for e in got:
        if e.event_id not in seen:
            seen.add(e.event_id)
            first_seen[e.conversation_id].append(e.event_id)
    expected: dict[str, list[str]] = defaultdict(list)
    for e in sent:
        expected[e.conversation_id].append(e.event_id)
    assert first_seen == expected  # per conversation, in the order published
