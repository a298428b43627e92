"""Errors of voice messages and speech (stable codes; documented in docs/api.md)."""

from __future__ import annotations

from helixdesk.core.errors import AppError, PayloadTooLargeError, ValidationFailedError


class AudioUnreadableError(ValidationFailedError):
    """The bytes are not audio that can be decoded (WAV, MP3, Ogg/Opus, AMR, M4A), or hold no sound."""

    code = "audio_unreadable"


class AudioTooLargeError(PayloadTooLargeError):
    """The audio file is over `audio_max_bytes`."""

    code = "audio_too_large"


class AudioTooLongError(ValidationFailedError):
    """The audio lasts longer than `audio_max_seconds`."""

    code = "audio_too_long"


class SpeechUnavailableError(AppError):
    """Speech recognition or synthesis could not run on this server (a package or program missing)."""

    code = "speech_unavailable"
    http_status = 503


class NoSpeechError(ValidationFailedError):
    """The recording decodes, but no words could be made out in it."""

    code = "audio_no_speech"
