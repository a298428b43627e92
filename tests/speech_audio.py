"""Audio files for the speech tests, made in the test: speech rendered by espeak-ng and encoded by
PyAV in the formats customers and WeChat send (WAV, MP3, Ogg/Opus, AMR-NB, M4A/AAC)."""

from __future__ import annotations

import io

import av
import numpy as np

from helixdesk.speech.tts import EspeakSynthesizer

# format -> (FFmpeg container, encoder, the encoder's sample rate or None for the input's)
FORMATS: dict[str, tuple[str, str, int | None]] = {
    "wav": ("wav", "pcm_s16le", None),
    "mp3": ("mp3", "libmp3lame", None),
    "ogg": ("ogg", "libopus", 48000),
    "amr": ("amr", "libopencore_amrnb", 8000),
    "m4a": ("ipod", "aac", None),
}


def speech(text: str, language: str, rate: int = 16000) -> bytes:
    """`text` spoken by espeak-ng: mono PCM16 at `rate`."""
    return EspeakSynthesizer().synthesize(text, language, rate)


def tone(seconds: float, rate: int = 16000, hz: float = 440.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * 8000).astype("<i2").tobytes()


def encode(pcm16: bytes, rate: int, fmt: str) -> bytes:
    """Mono PCM16 at `rate` as a file in `fmt` (a key of `FORMATS`)."""
    container, codec, codec_rate = FORMATS[fmt]
    out_rate = codec_rate or rate
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=out_rate, layout="mono")  # type: ignore[call-overload]
        if fmt == "amr":
            stream.bit_rate = 12200
        frame = av.AudioFrame.from_ndarray(
            np.frombuffer(pcm16, dtype="<i2").reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=out_rate)
        fifo = av.AudioFifo()
        for piece in resampler.resample(frame) + resampler.resample(None):
            fifo.write(piece)
        size = stream.codec_context.frame_size or 1024
        while fifo.samples:
            chunk = fifo.read(min(size, fifo.samples)) if fifo.samples >= size else fifo.read(fifo.samples)
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    return buffer.getvalue()
