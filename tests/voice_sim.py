"""A fake Asterisk for the phone channel's tests and bench: one call over AudioSocket, as Asterisk's
`AudioSocket(uuid, host:port)` makes it.

It sends the call id, then a continuous stream of 20 ms slin frames (silence, or the speech it is
told to say: espeak-ng's Mandarin or English at 8 kHz), keys (DTMF), and the hangup; it keeps every
frame the bot sends. `pace` > 1 sends the caller's audio faster than real time (the server's voice
activity detection counts audio, not wall time)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field

from helixdesk.channels.phone import audiosocket as aso
from helixdesk.speech.tts import EspeakSynthesizer

_VOICE = EspeakSynthesizer()


def spoken(text: str, language: str) -> bytes:
    """`text` said by espeak-ng at the telephone's 8 kHz."""
    return _VOICE.synthesize(text, language, aso.RATE)


@dataclass
class FakeAsterisk:
    host: str
    port: int
    pace: float = 1.0
    call_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    bot_audio: bytearray = field(default_factory=bytearray)
    hung_up_by_bot: bool = False
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _pending: asyncio.Queue[tuple[bytes, asyncio.Future[None]]] = field(default_factory=asyncio.Queue)
    _last_bot_frame: float = 0.0
    _bot_spoke: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> FakeAsterisk:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._writer.write(aso.call_id_frame(self.call_id))
        self._tasks = [asyncio.create_task(self._send()), asyncio.create_task(self._receive())]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hangup()

    async def say(self, pcm16: bytes) -> None:
        """Send speech (8 kHz PCM16) in the frame stream; returns when it is all sent."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.put_nowait((pcm16, done))
        await done

    async def key(self, digit: str) -> None:
        assert self._writer is not None
        self._writer.write(aso.dtmf(digit))
        await self._writer.drain()

    async def raw(self, data: bytes) -> None:
        """Bytes as they are (a malformed frame)."""
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    async def bot_speaking(self, timeout: float = 60.0) -> None:
        """Until the bot's audio starts."""
        self._bot_spoke.clear()
        await asyncio.wait_for(self._bot_spoke.wait(), timeout)

    async def bot_quiet(self, quiet: float = 0.6, timeout: float = 120.0) -> None:
        """Until the bot has spoken and then sent nothing for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        await asyncio.wait_for(self._bot_spoke.wait(), timeout)
        while loop.time() - self._last_bot_frame < quiet:
            if loop.time() > end:
                raise TimeoutError("the bot did not stop speaking")
            await asyncio.sleep(0.1)

    async def ended(self, timeout: float = 60.0) -> None:
        """Until the bot hangs up."""
        await asyncio.wait_for(asyncio.shield(self._tasks[1]), timeout)

    async def hangup(self) -> None:
        if self._writer is None:
            return
        with contextlib.suppress(ConnectionError):
            if not self._writer.is_closing():
                self._writer.write(aso.hangup())
                await self._writer.drain()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
        self._writer = None

    async def _send(self) -> None:
        assert self._writer is not None
        loop = asyncio.get_running_loop()
        step = aso.FRAME_MS / 1000 / self.pace
        silence = b"\x00" * aso.FRAME_BYTES
        next_at = loop.time()
        with contextlib.suppress(ConnectionError):
            while True:
                if self._pending.empty():
                    self._writer.write(aso.audio(silence))
                    next_at += step
                    await self._writer.drain()
                    await asyncio.sleep(max(0.0, next_at - loop.time()))
                    continue
                pcm, done = self._pending.get_nowait()
                for offset in range(0, len(pcm), aso.FRAME_BYTES):
                    chunk = pcm[offset : offset + aso.FRAME_BYTES].ljust(aso.FRAME_BYTES, b"\x00")
                    self._writer.write(aso.audio(chunk))
                    next_at += step
                    await self._writer.drain()
                    await asyncio.sleep(max(0.0, next_at - loop.time()))
                done.set_result(None)

    async def _receive(self) -> None:
        assert self._reader is not None
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionError):
            while True:
                frame = await aso.read_frame(self._reader)
                if frame is None or frame.kind is aso.Kind.HANGUP:
                    self.hung_up_by_bot = frame is not None
                    return
                if frame.kind is aso.Kind.AUDIO:
                    self.bot_audio += frame.payload
                    self._last_bot_frame = loop.time()
                    self._bot_spoke.set()
