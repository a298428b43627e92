"""Voice activity detection on the caller's audio: where an utterance starts and ends.

Energy based, frame by frame (20 ms of 8 kHz PCM16 as Asterisk sends them):

- a frame is *voiced* when its level (RMS, in dB below full scale) reaches `threshold_db`;
- speech *starts* after `onset_ms` of consecutive voiced frames (a click or a key's tone is
  shorter), and the utterance keeps the `pre_roll_ms` before that, so its first syllable is not
  cut off; the `Onset` event is what interrupts the bot's speech (barge-in);
- speech *ends* after `hangover_ms` of unvoiced frames (the pause between words is shorter);
- an utterance with less than `min_speech_ms` of voiced audio is dropped as noise, and one longer
  than `max_utterance_ms` is cut there and recognised as it is.

Telephone lines carry little noise, so a fixed threshold does; a noisy trunk raises
`voice_vad_threshold_db`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

RATE = 8000
_BYTES_PER_MS = RATE * 2 // 1000  # 16


@dataclass(frozen=True, slots=True)
class VadConfig:
    threshold_db: float = -40.0
    onset_ms: int = 60
    hangover_ms: int = 700
    min_speech_ms: int = 200
    max_utterance_ms: int = 15000
    pre_roll_ms: int = 200


@dataclass(frozen=True, slots=True)
class Onset:
    """The caller started speaking."""


@dataclass(frozen=True, slots=True)
class Utterance:
    """What the caller said, from just before its onset to its end (8 kHz PCM16)."""

    pcm16: bytes
    speech_ms: int  # voiced audio in it

    @property
    def seconds(self) -> float:
        return len(self.pcm16) / (RATE * 2)


VadEvent = Onset | Utterance


def level_db(pcm16: bytes) -> float:
    """The RMS level of PCM16 in dB below full scale (-120 for digital silence)."""
    samples = np.frombuffer(pcm16[: len(pcm16) - len(pcm16) % 2], dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(samples * samples))) / 32768.0
    return max(-120.0, 20.0 * float(np.log10(rms))) if rms > 0 else -120.0


class VoiceActivity:
    """Feed the caller's frames with `push`; it returns the events they complete."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._pre: deque[bytes] = deque()
        self._pre_ms = 0
        self._run_ms = 0  # consecutive voiced audio before an onset
        self._speaking = False
        self._buffer = bytearray()
        self._voiced_ms = 0
        self._silent_ms = 0

    @property
    def speaking(self) -> bool:
        return self._speaking

    def reset(self) -> None:
        """Forget what was heard (the bot starts listening afresh)."""
        self._pre.clear()
        self._pre_ms = self._run_ms = 0
        self._end()

    def push(self, frame: bytes) -> list[VadEvent]:
        c = self.config
        ms = len(frame) // _BYTES_PER_MS
        if ms == 0:
            return []
        voiced = level_db(frame) >= c.threshold_db
        if not self._speaking:
            self._pre.append(frame)
            self._pre_ms += ms
            while (
                self._pre and self._pre_ms - len(self._pre[0]) // _BYTES_PER_MS >= c.pre_roll_ms + c.onset_ms
            ):
                self._pre_ms -= len(self._pre.popleft()) // _BYTES_PER_MS
            self._run_ms = self._run_ms + ms if voiced else 0
            if self._run_ms < c.onset_ms:
                return []
            self._speaking = True
            self._buffer = bytearray(b"".join(self._pre))
            self._voiced_ms = self._run_ms
            self._silent_ms = 0
            self._pre.clear()
            self._pre_ms = self._run_ms = 0
            return [Onset()]
        self._buffer += frame
        if voiced:
            self._voiced_ms += ms
            self._silent_ms = 0
        else:
            self._silent_ms += ms
        if self._silent_ms >= c.hangover_ms:
            return self._finish(trim_ms=self._silent_ms - min(self._silent_ms, 200))
        if len(self._buffer) // _BYTES_PER_MS >= c.max_utterance_ms:
            return self._finish(trim_ms=0)
        return []

    def flush(self) -> list[VadEvent]:
        """The call ended: what was being said, if it is long enough."""
        return self._finish(trim_ms=0) if self._speaking else []

    def _finish(self, *, trim_ms: int) -> list[VadEvent]:
        pcm = bytes(self._buffer[: len(self._buffer) - trim_ms * _BYTES_PER_MS])
        voiced = self._voiced_ms
        self._end()
        if voiced < self.config.min_speech_ms:
            return []
        return [Utterance(pcm, voiced)]

    def _end(self) -> None:
        self._speaking = False
        self._buffer = bytearray()
        self._voiced_ms = self._silent_ms = 0
