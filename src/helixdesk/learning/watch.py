"""Each server process picks up a promoted (or rolled-back) model without a restart.

`LiveModelWatch` asks the registry every `learning_reload_seconds` which version the database made
live. When it changes, it makes the model folder's `LIVE` file agree (`sync_pointer`) and has the
parser load its models again between two batches (`Parser.reload`: the thread's pipeline, or the
NLU process's). Messages arriving meanwhile wait for the new models, then are parsed by them; none
is parsed by half of one. A model that fails to load leaves the old one serving and is tried again
at the next check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio

from helixdesk.learning.registry import ModelRegistry
from helixdesk.nlu.batcher import Parser

log = logging.getLogger(__name__)


class ReloadFailedError(RuntimeError):
    """The parser could not load the live model (logged once per version)."""


class LiveModelWatch:
    def __init__(self, *, registry: ModelRegistry, parser: Parser, every: float) -> None:
        self._registry = registry
        self._parser = parser
        self._every = every
        self._task: asyncio.Task[None] | None = None
        self.seen: str | None = None  # the live version the database recorded at the last check
        self.serving: dict[str, str | None] = {}  # what the parser said it loaded at the last reload
        self._failed: str | None = None

    def prepare(self) -> None:
        """Before the parser starts: `LIVE` agrees with the database, so it loads the live model."""
        self._registry.sync_pointer()
        self.seen = self._registry.live_version()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-model-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def check(self) -> bool:
        """One check; True when the models were reloaded."""
        version = await anyio.to_thread.run_sync(self._registry.live_version)
        if version == self.seen:
            return False
        await anyio.to_thread.run_sync(self._registry.sync_pointer)
        try:
            self.serving = await self._parser.reload()
        except Exception as e:
            if self._failed != version:
                log.exception("loading the live model %s failed; the old one keeps serving", version)
            self._failed = version
            raise ReloadFailedError(f"reloading the models for {version} failed: {e}") from e
        log.info("now serving model %s (%s)", version, self.serving)
        self.seen, self._failed = version, None
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.check()
            except ReloadFailedError:
                pass  # logged once; tried again at the next check
            except Exception:
                log.exception("checking for a newly promoted model failed; checked again shortly")
