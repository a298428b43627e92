"""Understanding messages in a process of their own, so the NLU never competes for the worker's GIL.

    parser = ProcessParser(pipeline_config, defaults={"model_root": ...})
    parser.start()                                     # spawns the NLU process; it loads the models
    turn = await parser.parse("我的卡丢了", reference_time=now)

The NLU is CPU work in Python and numpy. In the worker's own process it holds the interpreter lock
a good part of the time, and every request, every database write and every socket waits for it in
turn. In a process of its own it runs on the machine's other core, and the worker's thread that
talks to it spends its time waiting on a pipe, without the lock. Requests that arrive while the
NLU process is busy wait together and go to it as one batch (`NLUPipeline.parse_batch`), as with
`ParseBatcher`. If the NLU process dies, the waiting requests fail with `nlu_unavailable` and the
next request starts a new one.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from helixdesk.core.errors import AppError
from helixdesk.core.turn import Turn
from helixdesk.nlu.batcher import BatchingParser, Request

log = logging.getLogger(__name__)


class NluUnavailableError(AppError):
    code = "nlu_unavailable"
    http_status = 503
    whole_batch = True  # the NLU process is gone: every waiting message fails, none is retried


def _serve(conn: Connection, config: Sequence[dict[str, Any] | str], defaults: dict[str, Any]) -> None:
    """The NLU process: build the pipeline, warm it up, then parse every batch it is sent."""
    from helixdesk.nlu.pipeline import NLUPipeline

    pipeline = NLUPipeline.from_config(config, defaults=defaults)
    pipeline.warm_up()
    conn.send(("ready", None))
    while True:
        try:
            batch = conn.recv()
        except EOFError:
            return
        if batch is None:
            return
        if batch == "reload":
            try:
                conn.send(("ok", pipeline.reload()))
            except Exception as e:  # noqa: BLE001 - the error goes back to the caller of reload()
                conn.send(("error", e if isinstance(e, AppError) else AppError(f"{type(e).__name__}: {e}")))
            continue
        texts, times, previous = batch
        try:
            conn.send(("ok", pipeline.parse_batch(texts, reference_times=times, previous_emotions=previous)))
        except Exception as e:  # noqa: BLE001 - the error goes back to the waiting requests
            conn.send(("error", e if isinstance(e, AppError) else AppError(f"{type(e).__name__}: {e}")))


class ProcessParser(BatchingParser):
    """Parses in a process of its own; the thread of this process waits on the pipe to it."""

    thread_name = "nlu-process-client"

    def __init__(
        self,
        config: Sequence[dict[str, Any] | str],
        *,
        defaults: dict[str, Any] | None = None,
        max_batch: int = 64,
        start_timeout: float = 120.0,
    ) -> None:
        super().__init__(max_batch=max_batch)
        self._config = list(config)
        self._defaults = dict(defaults or {})
        self._start_timeout = start_timeout
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def _starting(self) -> None:
        self._spawn()

    def _stopped(self) -> None:
        self._shutdown()

    # ---- the NLU process ------------------------------------------------------------------------

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")  # a clean interpreter: no threads forked
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, self._config, self._defaults), name="helixdesk-nlu", daemon=True
        )
        process.start()
        theirs.close()
        if not ours.poll(self._start_timeout):
            process.kill()
            raise NluUnavailableError("the NLU process did not start in time")
        kind, _ = ours.recv()
        if kind != "ready":
            raise NluUnavailableError("the NLU process failed to start")
        self._process, self._conn = process, ours

    def _shutdown(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()

    def _reload(self) -> dict[str, str | None]:
        """The NLU process loads its models again; a new process would load the same."""
        try:
            if self._conn is None:
                self._spawn()
            assert self._conn is not None
            self._conn.send("reload")
            kind, value = self._conn.recv()
        except (OSError, EOFError, BrokenPipeError, NluUnavailableError) as e:
            self._shutdown()
            raise NluUnavailableError("the NLU process is gone; a new one loads the models") from e
        if kind == "error":
            raise value
        return dict(value)

    def _parse_batch(self, batch: list[Request]) -> list[Turn]:
        try:
            if self._conn is None:
                self._spawn()
            assert self._conn is not None
            self._conn.send(
                (
                    [r.text for r in batch],
                    [r.reference_time for r in batch],
                    [r.previous_emotion for r in batch],
                )
            )
            kind, value = self._conn.recv()
        except (OSError, EOFError, BrokenPipeError, NluUnavailableError) as e:
            log.warning("the NLU process is gone (%s); a new one starts with the next message", e)
            self._shutdown()
            raise NluUnavailableError("understanding is unavailable for a moment; send it again") from e
        if kind == "error":
            raise value
        return list(value)
