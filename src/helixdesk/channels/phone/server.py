"""The AudioSocket server: Asterisk connects once per call (`AudioSocket(uuid, host:port)` in the
dialplan) and the call runs on that connection (`helixdesk.channels.phone.call`).

At most `max_calls` calls at once; one more is hung up at once (logged). `start` renders the menu's
fixed prompts ahead of the first call when the synthesizer caches them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from helixdesk.channels.phone.audiosocket import hangup
from helixdesk.channels.phone.call import Call, CallRecord, PhoneDesk

log = logging.getLogger(__name__)


class PhoneServer:
    def __init__(self, desk: PhoneDesk, *, host: str, port: int, max_calls: int = 20) -> None:
        self._desk = desk
        self._host = host
        self._port = port
        self._max_calls = max_calls
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[Any]] = set()
        self.finished: list[CallRecord] = []  # the calls ended since start (the most recent 100)
        self.active: list[Call] = []  # the calls under way

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system when `port` was 0)."""
        assert self._server is not None, "the phone server is not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        prerender = getattr(self._desk.synthesizer, "prerender", None)
        if prerender is not None:
            await asyncio.to_thread(prerender, self._desk.menu.all_prompts())
        self._server = await asyncio.start_server(self._connected, self._host, self._port)
        log.info("phone channel: AudioSocket on %s:%s", self._host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._calls):
            task.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        await self.start()
        assert self._server is not None
        try:
            await self._server.serve_forever()
        finally:
            await self.stop()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._calls) >= self._max_calls:
            log.warning("phone channel: %d calls already; one more was hung up", len(self._calls))
            writer.write(hangup())
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            call = Call(self._desk, reader, writer)
            self.active.append(call)
            try:
                record = await call.run()
            finally:
                self.active.remove(call)
            self.finished = [*self.finished[-99:], record]
            log.info(
                "call %s ended: conversation %s, choices %s, %d utterances, %d interruptions",
                record.call_id,
                record.conversation_id,
                ",".join(record.choices) or "-",
                len(record.heard),
                record.interruptions,
            )
        finally:
            self._calls.discard(task)
