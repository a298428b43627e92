"""The phone channel's settings (`voice_*`) as a call's configuration."""

from __future__ import annotations

from helixdesk.channels.phone.call import CallConfig
from helixdesk.channels.phone.vad import VadConfig
from helixdesk.core.settings import Settings


def call_config(settings: Settings) -> CallConfig:
    return CallConfig(
        vad=VadConfig(
            threshold_db=settings.voice_vad_threshold_db,
            hangover_ms=settings.voice_vad_hangover_ms,
            min_speech_ms=settings.voice_vad_min_speech_ms,
            max_utterance_ms=round(settings.voice_max_utterance_seconds * 1000),
        ),
        min_confidence=settings.voice_min_confidence,
        no_input_seconds=settings.voice_no_input_seconds,
    )
