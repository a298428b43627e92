"""The bot's speech to the caller: 8 kHz PCM16 in 20 ms AudioSocket frames, at the pace of real time,
stopped at once when the caller barges in (speaks or presses a key)."""

from __future__ import annotations

import asyncio
import contextlib

from helixdesk.channels.phone.audiosocket import FRAME_BYTES, FRAME_MS, audio


class Player:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._stop = asyncio.Event()
        self.playing = False
        self.interruptions = 0  # how often the caller cut the bot short
        self.frames_sent = 0

    def stop(self) -> None:
        """Barge-in: the frame being sent is the last."""
        if self.playing and not self._stop.is_set():
            self._stop.set()
            self.interruptions += 1

    async def play(self, pcm16: bytes) -> bool:
        """Send `pcm16`; False when the caller interrupted it (or hung up)."""
        self._stop.clear()
        self.playing = True
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            for n, offset in enumerate(range(0, len(pcm16), FRAME_BYTES)):
                if self._stop.is_set():
                    return False
                chunk = pcm16[offset : offset + FRAME_BYTES]
                if len(chunk) < FRAME_BYTES:
                    chunk += b"\x00" * (FRAME_BYTES - len(chunk))
                self._writer.write(audio(chunk))
                await self._writer.drain()
                self.frames_sent += 1
                wait = started + (n + 1) * FRAME_MS / 1000 - loop.time()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), wait)
            return not self._stop.is_set()
        except (ConnectionError, RuntimeError):
            return False  # the caller hung up while the bot spoke
        finally:
            self.playing = False
