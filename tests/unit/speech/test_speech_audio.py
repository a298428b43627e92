"""Decoding what customers and WeChat send into the recogniser's 16 kHz mono PCM16, with real files
made in the test (espeak-ng speech, encoded by PyAV), and what is refused."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from helixdesk.speech.audio import decode, decode_audio, duration, resample, wav_bytes
from helixdesk.speech.errors import AudioTooLongError, AudioUnreadableError
from tests.speech_audio import FORMATS, encode, speech, tone

CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "amr": "audio/amr",
    "m4a": "audio/mp4",
}


@pytest.fixture(scope="module")
def spoken() -> bytes:
    return speech("我想查询账户余额", "zh-Hans", 16000)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_customers_send_decodes_to_16_khz_mono_of_the_same_length(spoken, fmt):
    data = encode(spoken, 16000, fmt)
    pcm, rate = decode_audio(data)
    assert rate == 16000
    # Codecs pad the start or end by a frame or two (AAC, AMR), never more than a tenth of a second.
    assert duration(pcm, rate) == pytest.approx(duration(spoken, 16000), abs=0.1)
    assert decode(data).content_type == CONTENT_TYPES[fmt]


def test_a_telephone_rate_recording_is_resampled_to_16_khz():
    pcm, rate = decode_audio(wav_bytes(tone(1.0, rate=8000), 8000))
    assert rate == 16000 and len(pcm) == pytest.approx(32000, abs=64)


def test_resample_keeps_the_length_in_seconds():
    one_second = tone(1.0, rate=16000)
    assert len(resample(one_second, 16000, 8000)) == pytest.approx(16000, abs=64)
    assert resample(one_second, 16000, 16000) is one_second


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 2048,
        b"RIFF\x24\x00\x00\x00WAVEfmt garbage after a WAV header",
        pytest.param("png", id="an image"),
        pytest.param("text", id="a text file"),
    ],
)
def test_what_is_not_audio_is_refused_as_unreadable(data):
    if data == "png":
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), "white").save(buffer, format="PNG")
        data = buffer.getvalue()
    elif data == "text":
        data = "我想查询余额\n".encode() * 50
    with pytest.raises(AudioUnreadableError) as caught:
        decode_audio(data)
    assert caught.value.code == "audio_unreadable" and caught.value.http_status == 422


def test_a_truncated_file_decodes_what_it_holds_or_is_refused(spoken):
    """Half an MP3 is still half the speech; the first bytes of one are no audio at all."""
    data = encode(spoken, 16000, "mp3")
    pcm, _ = decode_audio(data[: len(data) // 2])
    assert 0 < duration(pcm, 16000) < duration(spoken, 16000)
    with pytest.raises(AudioUnreadableError):
        decode_audio(data[:64])


def test_a_recording_over_the_limit_is_refused_before_it_is_decoded_in_full():
    data = encode(tone(3.0), 16000, "ogg")
    assert duration(decode_audio(data, max_seconds=5)[0], 16000) == pytest.approx(3.0, abs=0.1)
    with pytest.raises(AudioTooLongError) as caught:
        decode_audio(data, max_seconds=1)
    assert caught.value.code == "audio_too_long"


def test_only_the_containers_recordings_come_in_are_decoded():
    """FFmpeg reads many more formats than customers send (a Sun .au file here); each is parser code
    that random uploads would reach, so only the listed containers are decoded."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="au") as out:
        stream = out.add_stream("pcm_s16be", rate=16000, layout="mono")  # type: ignore[call-overload]
        frame = av.AudioFrame.from_ndarray(
            np.frombuffer(tone(1.0), dtype="<i2").reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 16000
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(AudioUnreadableError, match="au files are not accepted"):
        decode_audio(buffer.getvalue())
