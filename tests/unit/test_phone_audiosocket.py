"""The AudioSocket codec and the caller's voice activity detection, on bytes and synthetic signals."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest

from helixdesk.channels.phone import audiosocket as aso
from helixdesk.channels.phone.errors import BadFrameError, TruncatedFrameError, UnknownFrameError
from helixdesk.channels.phone.menu import VoiceMenu, looping
from helixdesk.channels.phone.vad import Onset, Utterance, VadConfig, VoiceActivity

CALL = str(uuid.uuid4())


def test_frames_come_out_whole_however_the_bytes_are_split():
    stream = aso.call_id_frame(CALL) + aso.audio(b"\x01\x00" * 160) + aso.dtmf("#") + aso.hangup()
    decoder = aso.FrameDecoder()
    frames = [f for i in range(len(stream)) for f in decoder.feed(stream[i : i + 1])]
    decoder.close()
    assert [f.kind for f in frames] == [aso.Kind.UUID, aso.Kind.AUDIO, aso.Kind.DTMF, aso.Kind.HANGUP]
    assert frames[0].call_id == CALL and frames[2].digit == "#" and len(frames[1].payload) == 320
    assert aso.FrameDecoder().feed(stream) == frames


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (b"\x7f\x00\x00", UnknownFrameError, "audiosocket_unknown_kind"),
        (b"\x01\x00\x03abc", BadFrameError, "audiosocket_bad_frame"),  # a call id of 3 bytes
        (b"\x03\x00\x01x", BadFrameError, "audiosocket_bad_frame"),  # no such key
        (b"\x10\x00\x03abc", BadFrameError, "audiosocket_bad_frame"),  # half a sample
    ],
)
def test_malformed_frames_are_refused_with_their_code(data, error, code):
    with pytest.raises(error) as e:
        aso.FrameDecoder().feed(data)
    assert e.value.code == code


def test_a_stream_that_ends_inside_a_frame_is_truncated():
    decoder = aso.FrameDecoder()
    assert decoder.feed(aso.audio(b"\x00" * 320)[:100]) == []
    with pytest.raises(TruncatedFrameError) as e:
        decoder.close()
    assert e.value.code == "audiosocket_truncated"

    async def read(data: bytes) -> aso.Frame | None:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await aso.read_frame(reader)

    assert asyncio.run(read(b"")) is None
    with pytest.raises(TruncatedFrameError):
        asyncio.run(read(b"\x10\x01"))
    with pytest.raises(TruncatedFrameError):
        asyncio.run(read(aso.audio(b"\x00" * 320)[:50]))


def _tone(ms: int, amplitude: float = 0.3) -> bytes:
    t = np.arange(ms * 8) / 8000
    return (np.sin(2 * np.pi * 300 * t) * amplitude * 32767).astype("<i2").tobytes()


def _silence(ms: int) -> bytes:
    return b"\x00" * (ms * 16)


def _events(vad: VoiceActivity, pcm: bytes) -> list[object]:
    return [e for i in range(0, len(pcm), 320) for e in vad.push(pcm[i : i + 320])]


def test_an_utterance_ends_after_the_hangover_and_keeps_its_pauses():
    vad = VoiceActivity(VadConfig(hangover_ms=700))
    events = _events(vad, _silence(400) + _tone(500) + _silence(300) + _tone(400) + _silence(900))
    assert isinstance(events[0], Onset)
    utterances = [e for e in events if isinstance(e, Utterance)]
    assert len(utterances) == 1  # the 300 ms pause did not end it
    assert utterances[0].speech_ms == 900
    # pre-roll (200 ms) + speech and pause (1200 ms) + 200 ms of the trailing silence
    assert 1.5 <= utterances[0].seconds <= 1.7
    assert not vad.speaking


def test_clicks_and_quiet_noise_are_not_speech_and_long_speech_is_cut():
    vad = VoiceActivity(VadConfig(min_speech_ms=200, max_utterance_ms=2000))
    noise = (np.random.default_rng(1).normal(0, 30, 8000)).astype("<i2").tobytes()  # about -60 dBFS
    assert _events(vad, noise + _tone(40) + _silence(1000)) == []  # a 40 ms click: no onset
    assert [type(e) for e in _events(vad, _tone(100) + _silence(1000))] == [Onset]  # too short
    long = _events(vad, _tone(3000))
    assert [type(e) for e in long] == [Onset, Utterance, Onset]
    assert isinstance(long[1], Utterance) and long[1].seconds == pytest.approx(2.0, abs=0.05)
    assert [type(e) for e in vad.flush()] == [Utterance]


def test_the_menu_takes_a_lone_digit_or_a_keyword_in_either_language():
    menu = VoiceMenu.for_pack("retail_bank")
    chosen = {
        t: (i.name if (i := menu.by_speech(t)) else None)
        for t in (
            "One.",
            "一",
            "按3",
            "我想查一下余额",
            "Balance, leave.",
            "转人工客服。",
            "I want to talk to an agent.",
            "I lost my card",  # lost (item 4) and card (item 2): a question, not a choice
            "Lost card.",
            "我想转账一千元",  # 一 inside a sentence is no choice
        )
    }
    assert chosen == {
        "One.": "balance",
        "一": "balance",
        "按3": "loans",
        "我想查一下余额": "balance",
        "Balance, leave.": "balance",
        "转人工客服。": "person",
        "I want to talk to an agent.": "person",
        "I lost my card": None,
        "Lost card.": "lost_card",
        "我想转账一千元": None,
    }
    assert menu.by_key("0") is not None and menu.by_key("0").person  # type: ignore[union-attr]
    assert menu.by_key("7") is None


def test_a_second_listen_expects_the_menus_words_and_distrusts_a_loop():
    menu = VoiceMenu.for_pack("retail_bank")
    zh, en = menu.expected("zh"), menu.expected("en")
    assert "余额" in zh and "人工" in zh and "balance" not in zh
    assert "lost card" in en and "agent" in en and "余额" not in en
    assert [looping(t) for t in ("贷款２贷款２贷款２贷", "card, card, card, card", "a, a, a,")] == [True] * 3
    assert not any(looping(t) for t in ("balance please", "信用卡信用卡", "one, two,", "人工客服"))
