"""NATS JetStream event bus: a replicated stream for deployments across several nodes or sites.

Events are published to one stream (`HELIXDESK_EVENTS` by default), each on the subject of its
conversation (`<subject>.<conversation id>`, so erasure purges a conversation's events by subject),
replicated to
`replicas` servers; a publish returns once a quorum stored it. Each event's id is its JetStream
message id, so publishing it again within the stream's duplicate window (after a failover, or by
the outbox relay after a crash) stores it once.

Each subscription group is a durable pull consumer shared by every process in the group, with
explicit acknowledgement: a handler's success is acknowledged, a failure is negatively acknowledged
and delivered again (the rest of the fetched batch too, so order is kept), and what a dead process
fetched but never acknowledged is delivered again after `ack_wait_seconds`. Ephemeral groups (live
fan-out, wake-ups) are consumers the server deletes by itself once their process stops fetching
(`inactive_threshold`), so a killed process leaves nothing behind.

Faults it recovers from by itself: the client reconnects to another server of the cluster; a
publish that times out during a leader election is retried with the same message id; a consumer
that vanished (an ephemeral one after a long outage) is created again from the last event this
process handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import nats
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError as JsNotFoundError

from helixdesk.bus.protocol import Handler, deliver
from helixdesk.core.events import Event, event_to_json

log = logging.getLogger(__name__)


class NatsJetStreamEventBus:
    def __init__(
        self,
        *,
        servers: Sequence[str],
        stream: str = "HELIXDESK_EVENTS",
        subject: str = "helixdesk.events",
        replicas: int = 1,
        retention_seconds: float = 24 * 3600.0,
        fetch_timeout: float = 1.0,
        ack_wait_seconds: float = 30.0,
        retry_delay: float = 0.05,
        publish_timeout: float = 30.0,
        ephemeral_inactive_seconds: float = 300.0,
    ) -> None:
        self._servers = list(servers)
        self.stream = stream
        self.subject = subject
        self._replicas = replicas
        self._retention = retention_seconds
        self._fetch_timeout = fetch_timeout
        self._ack_wait = ack_wait_seconds
        self._retry_delay = retry_delay
        self._publish_timeout = publish_timeout
        self._inactive = ephemeral_inactive_seconds
        self._nc: Any = None
        self._js: Any = None
        self._subs: dict[str, tuple[Handler, bool]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._last_seq: dict[str, int] = {}  # per group: the stream sequence of the last event handled
        self._running = False

    # ---- lifecycle --------------------------------------------------------------------------------

    async def connect(self) -> None:
        self._nc = await nats.connect(
            servers=self._servers,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=5,
            allow_reconnect=True,
        )
        self._js = self._nc.jetstream(timeout=10)
        # A cluster that is just starting has no JetStream leader yet: wait for it (bounded).
        deadline = time.monotonic() + self._publish_timeout
        while True:
            try:
                await self._ensure_stream()
            except Exception as e:
                if time.monotonic() > deadline:
                    raise
                log.info("JetStream not ready (%s); waiting", e)
                await asyncio.sleep(0.5)
            else:
                return

    async def start(self) -> None:
        await self.connect()
        self._running = True
        for group in self._subs:
            await self._join(group)

    async def stop(self) -> None:
        self._running = False
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._js is not None:
            for group, (_, ephemeral) in self._subs.items():
                if ephemeral:
                    with contextlib.suppress(Exception):
                        await self._js.delete_consumer(self.stream, _durable(group))
        await self.close()

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = self._js = None

    async def _ensure_stream(self) -> None:
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.subject}.>"],
            num_replicas=self._replicas,
            storage=StorageType.FILE,
            max_age=self._retention,
            duplicate_window=min(self._retention, 120.0),
        )
        try:
            await self._js.stream_info(self.stream)
        except JsNotFoundError:
            with contextlib.suppress(Exception):  # another process may create it at the same moment
                await self._js.add_stream(config)
            await self._js.stream_info(self.stream)

    # ---- publishing -------------------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        """Store the event on a quorum; retried with the same message id through a failover."""
        payload = event_to_json(event).encode()
        headers = {"Nats-Msg-Id": event.event_id}
        deadline = time.monotonic() + self._publish_timeout
        delay = self._retry_delay
        while True:
            try:
                await self._js.publish(
                    self._subject_of(event), payload, headers=headers, stream=self.stream, timeout=2
                )
            except Exception as e:  # timeouts, "no responders" while a leader is elected, reconnects
                if time.monotonic() > deadline:
                    raise
                log.debug("publish of %s failed (%s); retrying", event.event_id, e)
            else:
                return
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)

    def _subject_of(self, event: Event) -> str:
        return f"{self.subject}.{_token(event.conversation_id)}"

    async def forget_conversations(self, conversation_ids: Sequence[str]) -> int:
        """Purge these conversations' events from the stream (a customer's erasure); returns how
        many conversations were purged."""
        for conversation_id in conversation_ids:
            await self._js.purge_stream(self.stream, subject=f"{self.subject}.{_token(conversation_id)}")
        return len(conversation_ids)

    async def publish_many(self, events: Sequence[Event]) -> None:
        for event in events:  # one after the other: the stream keeps their order
            await self.publish(event)

    # ---- consuming --------------------------------------------------------------------------------

    async def subscribe(self, group: str, handler: Handler, *, ephemeral: bool = False) -> None:
        if group in self._subs:
            raise ValueError(f"group {group!r} already has a consumer in this process")
        self._subs[group] = (handler, ephemeral)
        if self._running:
            await self._join(group)

    async def _join(self, group: str) -> None:
        """Create the group's consumer now (it receives what is published from here on), then
        consume in the background."""
        if group not in self._tasks:
            sub = await self._subscription(group)
            self._tasks[group] = asyncio.create_task(self._consume(group, sub), name=f"bus:{group}")

    def _consumer_config(self, group: str, ephemeral: bool) -> ConsumerConfig:
        last = self._last_seq.get(group)
        config = ConsumerConfig(
            durable_name=_durable(group),
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            max_deliver=-1,
            max_ack_pending=1000,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if last else DeliverPolicy.NEW,
            opt_start_seq=last + 1 if last else None,
        )
        if ephemeral:
            config.inactive_threshold = self._inactive
        return config

    async def _subscription(self, group: str) -> Any:
        _, ephemeral = self._subs[group]
        config = self._consumer_config(group, ephemeral)
        with contextlib.suppress(Exception):  # it exists already (another worker of the group)
            await self._js.add_consumer(self.stream, config=config)
        return await self._js.pull_subscribe_bind(_durable(group), stream=self.stream)

    async def _consume(self, group: str, sub: Any) -> None:
        handler, _ = self._subs[group]
        outage_since: float | None = None
        while self._running:
            try:
                if sub is None:
                    sub = await self._subscription(group)
                try:
                    msgs = await sub.fetch(100, timeout=self._fetch_timeout)
                except (NatsTimeoutError, TimeoutError):
                    msgs = []
                if outage_since is not None:
                    log.warning(
                        "JetStream consumer of group %s is back after %.1f s",
                        group,
                        time.monotonic() - outage_since,
                    )
                    outage_since = None
                for i, msg in enumerate(msgs):
                    if await deliver(handler, group, msg.data):
                        await msg.ack()
                        self._last_seq[group] = int(msg.metadata.sequence.stream)
                        continue
                    for rest in msgs[i:]:  # delivered again, in order
                        with contextlib.suppress(Exception):
                            await rest.nak()
                    await asyncio.sleep(self._retry_delay)
                    break
            except asyncio.CancelledError:
                raise
            except JsNotFoundError:
                # The consumer is gone (an ephemeral one after a long outage): made again from the
                # last event handled here.
                log.warning("JetStream consumer of group %s is gone; creating it again", group)
                sub = None
            except Exception as e:  # noqa: BLE001 - servers away, a leader being elected
                if outage_since is None:
                    outage_since = time.monotonic()
                    log.warning(
                        "JetStream unavailable for group %s (%s: %s); retrying", group, type(e).__name__, e
                    )
                sub = None
                await asyncio.sleep(0.5)


def _durable(group: str) -> str:
    """A consumer name JetStream accepts (no dots, spaces or wildcards)."""
    return _token(group)


def _token(value: str) -> str:
    """One subject token or name: letters, digits, `-` and `_` only."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in value) or "_"
