"""Text to speech: espeak-ng for real (a subprocess), the cache of rendered prompts, the backends by
name, and Piper for English (the optional extra `voice-piper`, installed by scripts/test.sh)."""

from __future__ import annotations

import numpy as np
import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.speech.audio import duration
from helixdesk.speech.errors import SpeechUnavailableError
from helixdesk.speech.tts import (
    CachedSynthesizer,
    EspeakSynthesizer,
    PiperSynthesizer,
    SpeechSynthesizer,
    synthesizer,
)

MENU = {
    "zh-Hans": "按1查询余额，按2办理信用卡业务。",
    "zh-Hant": "按1查詢餘額，按2辦理信用卡業務。",
    "en": "Press 1 for your balance, press 2 for cards.",
}


def loudness(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


class Counting:
    """A backend that says how often it was asked (to see what the cache spares)."""

    name = "counting"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def synthesize(self, text: str, language: str, sample_rate: int = 8000) -> bytes:
        self.calls.append((text, language, sample_rate))
        return f"{language}:{sample_rate}:{text}".encode()


@pytest.mark.parametrize("language", sorted(MENU))
def test_espeak_speaks_each_language_at_the_telephone_rate(language):
    pcm = EspeakSynthesizer().synthesize(MENU[language], language)
    assert 1.5 < duration(pcm, 8000) < 15 and loudness(pcm) > 300


def test_the_rate_asked_for_is_the_rate_returned():
    espeak = EspeakSynthesizer()
    at_8k = espeak.synthesize(MENU["en"], "en", 8000)
    at_16k = espeak.synthesize(MENU["en"], "en", 16000)
    assert duration(at_8k, 8000) == pytest.approx(duration(at_16k, 16000), abs=0.01)


def test_the_text_is_spoken_never_read_as_options():
    """A text that looks like a command-line option is said, not obeyed (it goes on stdin)."""
    pcm = EspeakSynthesizer().synthesize("--help -w /tmp/x.wav", "en")
    assert duration(pcm, 8000) > 0.5 and loudness(pcm) > 300


def test_a_missing_program_is_a_clear_error():
    with pytest.raises(SpeechUnavailableError) as caught:
        EspeakSynthesizer(program="espeak-ng-not-installed").synthesize("你好", "zh-Hans")
    assert caught.value.code == "speech_unavailable" and "apt-get install espeak-ng" in caught.value.detail


def test_empty_text_is_silence_and_overlong_text_is_refused():
    assert EspeakSynthesizer().synthesize("  ", "en") == b""
    with pytest.raises(ValueError, match="limit"):
        EspeakSynthesizer().synthesize("好" * 2001, "zh-Hans")


def test_the_cache_renders_each_prompt_once_per_language_and_rate():
    backend = Counting()
    cache = CachedSynthesizer(backend)
    first = cache.synthesize("按1查询余额", "zh-Hans")
    assert cache.synthesize("按1查询余额", "zh-Hans") == first
    cache.synthesize("按1查询余额", "zh-Hans", 16000)
    cache.synthesize("按1查询余额", "zh-Hant")
    assert len(backend.calls) == 3 and cache.rendered == 3


def test_the_memory_cache_keeps_the_most_recently_used():
    backend = Counting()
    cache = CachedSynthesizer(backend, max_items=2)
    for text in ("one", "two", "one", "three", "one", "two"):
        cache.synthesize(text, "en")
    # "two" fell out when "three" came in ("one" had been used since); "one" never did.
    assert [c[0] for c in backend.calls] == ["one", "two", "three", "two"]


def test_rendered_prompts_on_disk_outlive_the_process(tmp_path):
    prompts = [(text, language) for language, text in MENU.items()]
    first = CachedSynthesizer(EspeakSynthesizer(), cache_dir=tmp_path)
    assert first.prerender(prompts) == 3
    assert first.prerender(prompts) == 0
    backend = Counting()
    later = CachedSynthesizer(backend, cache_dir=tmp_path)
    # Another backend (another name) renders its own; the same backend finds espeak-ng's files.
    later.synthesize(MENU["en"], "en")
    assert len(backend.calls) == 1
    again = CachedSynthesizer(EspeakSynthesizer(), cache_dir=tmp_path)
    assert again.synthesize(MENU["en"], "en") == first.synthesize(MENU["en"], "en")
    assert again.rendered == 0
    assert not list(tmp_path.rglob("*.tmp"))


def test_backends_by_name():
    assert isinstance(synthesizer("espeak"), EspeakSynthesizer)
    assert isinstance(synthesizer("piper"), PiperSynthesizer)
    assert isinstance(CachedSynthesizer(synthesizer()), SpeechSynthesizer)
    with pytest.raises(ConfigurationError) as caught:
        synthesizer("festival")
    assert caught.value.code == "unknown_tts_backend" and "espeak, piper" in caught.value.detail


def test_piper_speaks_english_and_leaves_mandarin_to_its_fallback():
    pytest.importorskip("piper", reason="the optional extra voice-piper is not installed")
    fallback = Counting()
    piper = PiperSynthesizer(fallback=fallback)
    pcm = piper.synthesize(MENU["en"], "en", 8000)
    assert 1.0 < duration(pcm, 8000) < 10 and loudness(pcm) > 300 and not fallback.calls
    assert piper.synthesize(MENU["zh-Hans"], "zh-Hans") == fallback.synthesize(MENU["zh-Hans"], "zh-Hans")
