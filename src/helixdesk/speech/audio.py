"""Audio in and out of PCM16: decoding an uploaded file, resampling, WAV wrapping.

`decode_audio` turns what a customer or WeChat sends (WAV, MP3, Ogg/Opus or Speex, AMR, M4A/AAC,
WebM, FLAC: the containers of `CONTENT_TYPES`, read by the FFmpeg inside PyAV) into 16 kHz mono
16-bit little-endian PCM, refusing any other container and what does not decode
(`audio_unreadable`) and what lasts longer than `max_seconds` (`audio_too_long`) as soon as the
decoder gets past the limit, so a long file is never decoded in full.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable
from dataclasses import dataclass

import av
import av.error
import numpy as np

from helixdesk.speech.errors import AudioTooLongError, AudioUnreadableError

RATE = 16000  # what the recogniser hears
DEFAULT_MAX_SECONDS = 120.0
_BYTES_PER_SAMPLE = 2


# FFmpeg's container names -> the media type the original is kept and served with.
CONTENT_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "amr": "audio/amr",
    "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4",
    "matroska,webm": "audio/webm",
    "aac": "audio/aac",
    "flac": "audio/flac",
}


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    pcm16: bytes  # 16 kHz mono, little-endian
    rate: int
    content_type: str  # of the file it came from

    @property
    def duration_s(self) -> float:
        return duration(self.pcm16, self.rate)


def decode_audio(data: bytes, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> tuple[bytes, int]:
    """An audio file as 16 kHz mono PCM16 (little-endian) and its rate (16000).

    Raises `AudioUnreadableError` for bytes that are not decodable audio or hold no samples, and
    `AudioTooLongError` past `max_seconds`."""
    decoded = decode(data, max_seconds=max_seconds)
    return decoded.pcm16, decoded.rate


def decode(data: bytes, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> DecodedAudio:
    """`decode_audio`, with the media type of the file."""
    if not data:
        raise AudioUnreadableError("the audio file is empty")
    limit = int(max_seconds * RATE) * _BYTES_PER_SAMPLE
    out = bytearray()
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            # Only the containers customers' recordings come in: FFmpeg's other demuxers (images,
            # playlists, raw streams) are no recordings, and each is more parser to attack.
            content_type = CONTENT_TYPES.get(container.format.name)
            if content_type is None:
                raise AudioUnreadableError(f"{container.format.name} files are not accepted recordings")
            streams = container.streams.audio
            if not streams:
                raise AudioUnreadableError("the file holds no audio")
            stream = streams[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            for frame in container.decode(stream):
                for piece in _resampled(resampler, frame):
                    out += piece
                if len(out) > limit:
                    raise AudioTooLongError(f"the audio lasts over {max_seconds:g} seconds, the limit")
            for piece in _resampled(resampler, None):
                out += piece
    except (av.error.FFmpegError, ValueError, IndexError, EOFError) as e:
        raise AudioUnreadableError("the file is not audio that can be decoded") from e
    if len(out) > limit:
        raise AudioTooLongError(f"the audio lasts over {max_seconds:g} seconds, the limit")
    if not out:
        raise AudioUnreadableError("the audio holds no sound")
    return DecodedAudio(pcm16=bytes(out), rate=RATE, content_type=content_type)


def _resampled(resampler: av.AudioResampler, frame: av.AudioFrame | None) -> Iterable[bytes]:
    for f in resampler.resample(frame):
        yield f.to_ndarray().astype("<i2", copy=False).tobytes()


def resample(pcm16: bytes, rate: int, to_rate: int) -> bytes:
    """Mono PCM16 at `rate` as mono PCM16 at `to_rate` (FFmpeg's resampler, band-limited)."""
    if rate == to_rate or not pcm16:
        return pcm16
    samples = np.frombuffer(pcm16[: len(pcm16) - len(pcm16) % 2], dtype="<i2")
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=to_rate)
    out = bytearray()
    for piece in _resampled(resampler, frame):
        out += piece
    for piece in _resampled(resampler, None):
        out += piece
    return bytes(out)


def to_float(pcm16: bytes) -> np.ndarray:
    """PCM16 as float32 samples in [-1, 1], as the recogniser takes them."""
    samples = np.frombuffer(pcm16[: len(pcm16) - len(pcm16) % 2], dtype="<i2")
    return samples.astype(np.float32) / 32768.0


def wav_bytes(pcm16: bytes, rate: int) -> bytes:
    """Mono PCM16 wrapped in a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(_BYTES_PER_SAMPLE)
        w.setframerate(rate)
        w.writeframes(pcm16)
    return buffer.getvalue()


def duration(pcm16: bytes, rate: int) -> float:
    return len(pcm16) / (_BYTES_PER_SAMPLE * rate)
