"""Speech to text with the real Whisper model from the two weight packages, on speech rendered by
espeak-ng in the test. Synthetic speech is hard for the recogniser (bench/speech_bench.py has the
error rates), so the tests check that the words that matter are heard, not whole sentences.

The model is loaded once per process; the transcriptions are few (each takes a second or more on two
cores)."""

from __future__ import annotations

import dataclasses

import pytest

from helixdesk.speech.asr import MODEL_BYTES, SpeechRecognizer, Transcript, model_files, pack_prompts
from helixdesk.speech.audio import resample
from tests.speech_audio import speech

pytestmark = pytest.mark.slow

BALANCE_ZH = "我想查询一下我的账户余额"
BALANCE_EN = "I want to check my account balance"


@pytest.fixture(scope="session")
def recognizer() -> SpeechRecognizer:
    recognizer = SpeechRecognizer(threads=2)
    recognizer.warm_up()
    return recognizer


@pytest.fixture(scope="module")
def balance_zh() -> bytes:
    return speech(BALANCE_ZH, "zh-Hans", 16000)


def test_the_model_is_joined_from_both_packages_in_memory():
    files = model_files()
    assert len(files["model.bin"]) == MODEL_BYTES
    assert set(files) == {"model.bin", "config.json", "vocabulary.json", "tokenizer.json"}


def test_the_pack_gives_a_bank_vocabulary_per_language():
    prompts = pack_prompts()
    assert "余额" in prompts["zh"] and "挂失" in prompts["zh"]
    assert "balance" in prompts["en"] and "\n" not in prompts["en"]


def test_mandarin_is_heard_and_written_in_simplified_characters(recognizer, balance_zh):
    heard = recognizer.transcribe(balance_zh, 16000, "zh-Hans")
    assert "余额" in heard.text and "查询" in heard.text, heard
    assert heard.language == "zh-Hans" and 0 < heard.confidence <= 1
    assert heard.duration_s == pytest.approx(len(balance_zh) / 32000)


def test_a_traditional_chinese_customer_gets_traditional_characters(recognizer, balance_zh):
    heard = recognizer.transcribe(balance_zh, 16000, "zh-Hant")
    assert "餘額" in heard.text and "余额" not in heard.text, heard
    assert heard.language == "zh-Hant"


def test_english_is_detected_when_the_language_is_not_known(recognizer):
    heard = recognizer.transcribe(speech(BALANCE_EN, "en", 16000), 16000)
    assert heard.language == "en" and "balance" in heard.text.lower(), heard


def test_telephone_audio_at_8_khz_is_heard(recognizer):
    pcm = resample(speech(BALANCE_EN, "en", 16000), 16000, 8000)
    heard = recognizer.transcribe(pcm, 8000, "en")
    assert "balance" in heard.text.lower(), heard
    assert heard.duration_s == pytest.approx(len(pcm) / 16000)


def test_no_audio_is_no_words():
    heard = SpeechRecognizer(prompts={}).transcribe(b"", 8000, "en")
    assert heard == Transcript(text="", language="en", confidence=0.0, duration_s=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        heard.text = "x"  # type: ignore[misc]
