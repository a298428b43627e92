"""Asterisk's AudioSocket protocol: the frames of one call over one TCP connection.

A frame is a 1-byte kind, a 2-byte big-endian payload length and the payload:

| kind | payload |
|---|---|
| 0x00 hangup | none |
| 0x01 call id | 16 bytes: the call's UUID (the first frame of every call) |
| 0x03 DTMF | 1 ASCII byte: `0`-`9`, `*`, `#`, `A`-`D` (Asterisk 20 and later) |
| 0x10 audio | signed linear 16-bit little-endian, 8 kHz mono (320 bytes per 20 ms, usually) |
| 0xff error | an optional error code from Asterisk |

`FrameDecoder` takes bytes as they arrive (any split: half a header, several frames at once) and
returns whole frames; `read_frame` reads one from an asyncio stream. A frame that breaks the
protocol raises an `AudioSocketError` with a stable code (`helixdesk.channels.phone.errors`).
"""

from __future__ import annotations

import asyncio
import enum
import struct
import uuid
from dataclasses import dataclass

from helixdesk.channels.phone.errors import (
    BadFrameError,
    TruncatedFrameError,
    UnknownFrameError,
)

RATE = 8000  # Asterisk's signed linear audio
FRAME_MS = 20
FRAME_BYTES = RATE * 2 * FRAME_MS // 1000  # 320
HEADER = struct.Struct(">BH")
MAX_PAYLOAD = 0xFFFF
DTMF_KEYS = frozenset("0123456789*#ABCD")


class Kind(enum.IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


@dataclass(frozen=True, slots=True)
class Frame:
    kind: Kind
    payload: bytes = b""

    @property
    def call_id(self) -> str:
        return str(uuid.UUID(bytes=self.payload))

    @property
    def digit(self) -> str:
        return self.payload.decode("ascii")


def encode(kind: Kind, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"an AudioSocket payload holds at most {MAX_PAYLOAD} bytes, not {len(payload)}")
    return HEADER.pack(int(kind), len(payload)) + payload


def audio(pcm16: bytes) -> bytes:
    return encode(Kind.AUDIO, pcm16)


def call_id_frame(call_id: str) -> bytes:
    return encode(Kind.UUID, uuid.UUID(call_id).bytes)


def dtmf(key: str) -> bytes:
    return encode(Kind.DTMF, key.encode("ascii"))


def hangup() -> bytes:
    return encode(Kind.HANGUP)


def checked(kind_byte: int, payload: bytes) -> Frame:
    """The frame of `kind_byte` and `payload`, or the error saying why it is not one."""
    try:
        kind = Kind(kind_byte)
    except ValueError:
        raise UnknownFrameError(f"unknown AudioSocket frame kind 0x{kind_byte:02x}") from None
    if kind is Kind.UUID and len(payload) != 16:
        raise BadFrameError(f"a call id frame holds 16 bytes, not {len(payload)}")
    if kind is Kind.DTMF and (len(payload) != 1 or chr(payload[0]) not in DTMF_KEYS):
        raise BadFrameError(f"a DTMF frame holds one key of 0-9 * # A-D, not {payload!r}")
    if kind is Kind.AUDIO and len(payload) % 2:
        raise BadFrameError(f"audio frames hold whole 16-bit samples, not {len(payload)} bytes")
    if kind is Kind.HANGUP and payload:
        raise BadFrameError("a hangup frame has no payload")
    return Frame(kind, payload)


class FrameDecoder:
    """Whole frames out of bytes fed as they arrive."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= HEADER.size:
            kind, length = HEADER.unpack_from(self._buffer)
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            payload = bytes(self._buffer[HEADER.size : end])
            del self._buffer[:end]
            frames.append(checked(kind, payload))
        return frames

    def close(self) -> None:
        """The connection ended: half a frame left over is an error."""
        if self._buffer:
            raise TruncatedFrameError(f"the connection ended inside a frame ({len(self._buffer)} bytes)")


async def read_frame(reader: asyncio.StreamReader) -> Frame | None:
    """The next frame of the stream; None when it ended between frames."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise TruncatedFrameError("the connection ended inside a frame header") from None
        return None
    kind, length = HEADER.unpack(header)
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as e:
        raise TruncatedFrameError(
            f"the connection ended inside a frame ({len(e.partial)} of {length} bytes)"
        ) from None
    return checked(kind, payload)
