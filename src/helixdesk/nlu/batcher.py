"""Understanding messages off the event loop, many at a time.

    batcher = ParseBatcher(pipeline)
    batcher.start()
    turn = await batcher.parse("我的卡丢了", reference_time=now)

The NLU is CPU work: run on the event loop it would stall every other request. `ParseBatcher`
runs it on a thread of its own. Requests that arrive while it is busy wait together and are parsed
in one `parse_batch` call when it is free, so under load the models embed many messages at once
(several times faster per message than one at a time), and at low load a message is parsed as
soon as it arrives: no request ever waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from helixdesk.core.turn import Emotion, Turn
from helixdesk.nlu.pipeline import NLUPipeline

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Request:
    """One message waiting to be parsed, and where its result goes."""

    text: str
    reference_time: datetime | None
    future: asyncio.Future[Turn]
    loop: asyncio.AbstractEventLoop
    previous_emotion: Emotion | None = None  # the emotion of the customer's previous message


@dataclass(slots=True)
class Reload:
    """A request to load the models again, between two batches, and where the versions go."""

    future: asyncio.Future[dict[str, str | None]]
    loop: asyncio.AbstractEventLoop


class BatchingParser:
    """Parses messages on a thread of its own, taking all that wait as one batch.

    A subclass says how one batch is parsed (`_parse_batch`). An error from it that is an
    `AppError` with `whole_batch = True` fails every waiting request (the parser itself is
    unavailable); any other error means one message broke a stage, so each message is parsed
    alone and only that one gets the error.
    """

    thread_name = "nlu-batcher"

    def __init__(self, *, max_batch: int = 64) -> None:
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Request | Reload | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0
        self.parsed = 0

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._starting()
                self._thread = threading.Thread(target=self._work, name=self.thread_name, daemon=True)
                self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        self._stopped()

    async def parse(
        self, text: str, *, reference_time: datetime | None = None, previous_emotion: Emotion | None = None
    ) -> Turn:
        if self._thread is None:
            self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Turn] = loop.create_future()
        self._queue.put(Request(text, reference_time, future, loop, previous_emotion))
        return await future

    async def reload(self) -> dict[str, str | None]:
        """Load the models again (e.g. the version just promoted) between two batches, so no message
        is parsed by half of one model; returns each model-backed stage's version now in use. A
        model that fails to load raises here and the old one keeps serving."""
        if self._thread is None:
            self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, str | None]] = loop.create_future()
        self._queue.put(Reload(future, loop))
        return await future

    def _reload(self) -> dict[str, str | None]:
        """Reload the models (on the parser's thread, between batches)."""
        raise NotImplementedError

    def _starting(self) -> None:
        """Called once before the thread starts."""

    def _stopped(self) -> None:
        """Called once the thread has stopped."""

    def _parse_batch(self, batch: list[Request]) -> list[Turn]:
        raise NotImplementedError

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            if isinstance(first, Reload):
                self._run_reload(first)
                continue
            batch = [first]
            reload: Reload | None = None
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                if isinstance(more, Reload):
                    reload = more  # after this batch; later messages wait for the new models
                    break
                batch.append(more)
            self._run(batch)
            if reload is not None:
                self._run_reload(reload)

    def _run_reload(self, r: Reload) -> None:
        try:
            versions = self._reload()
        except Exception as e:  # noqa: BLE001 - the error goes back to the caller of reload()
            log.warning("reloading the NLU models failed; the old ones keep serving: %s", e)
            _settle(r.future, r.loop, None, e)
            return
        _settle(r.future, r.loop, versions, None)

    def _run(self, batch: list[Request]) -> None:
        try:
            turns = self._parse_batch(batch)
        except Exception as e:  # noqa: BLE001 - the stage's error goes to the waiting request
            if len(batch) == 1 or getattr(e, "whole_batch", False):
                for r in batch:
                    settle(r, None, e)
                return
            # One message broke a stage: parse each alone, so only that one gets the error.
            for r in batch:
                self._run([r])
            return
        self.batches += 1
        self.parsed += len(batch)
        for r, turn in zip(batch, turns, strict=True):
            settle(r, turn, None)


class ParseBatcher(BatchingParser):
    """Parses on a thread of this process."""

    def __init__(self, pipeline: NLUPipeline, *, max_batch: int = 64) -> None:
        super().__init__(max_batch=max_batch)
        self.pipeline = pipeline

    def _reload(self) -> dict[str, str | None]:
        return self.pipeline.reload()

    def _parse_batch(self, batch: list[Request]) -> list[Turn]:
        return self.pipeline.parse_batch(
            [r.text for r in batch],
            reference_times=[r.reference_time for r in batch],
            previous_emotions=[r.previous_emotion for r in batch],
        )


def settle(r: Request, turn: Turn | None, error: BaseException | None) -> None:
    """Hand a result (or an error) to the waiting request, on its own event loop."""
    _settle(r.future, r.loop, turn, error)


def _settle(
    future: asyncio.Future[Any], loop: asyncio.AbstractEventLoop, value: Any, error: BaseException | None
) -> None:
    def set_result() -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(set_result)


class Parser(Protocol):
    """What understands messages for the conversation service: `ParseBatcher` (a thread of this
    process) or `helixdesk.nlu.process.ProcessParser` (a process of its own)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    async def parse(
        self, text: str, *, reference_time: datetime | None = None, previous_emotion: Emotion | None = None
    ) -> Turn: ...

    async def reload(self) -> dict[str, str | None]: ...
