"""Errors of the social-media webhooks (stable codes; documented in docs/channels.md)."""

from __future__ import annotations

from helixdesk.core.errors import AppError, ConfigurationError, NotFoundError, ValidationFailedError


class SocialConfigError(ConfigurationError):
    """The platforms file is missing, not YAML, or a platform's settings are incomplete or wrong."""

    code = "social_config_invalid"


class SocialNotConfiguredError(NotFoundError):
    """No platform of this name is configured."""

    code = "social_not_configured"


class SocialSignatureError(AppError):
    """The signature header is missing or does not match the platform's shared secret."""

    code = "social_bad_signature"
    http_status = 403


class SocialStaleError(AppError):
    """The timestamp header is missing, not a whole number of seconds, or outside the window."""

    code = "social_stale_timestamp"
    http_status = 403


class SocialBadPayloadError(ValidationFailedError):
    """The body is not UTF-8 JSON."""

    code = "social_bad_payload"
    http_status = 400


class SocialPayloadMismatchError(ValidationFailedError):
    """The JSON does not match the platform's mapping: an event lacks a field, or has a wrong one."""

    code = "social_payload_mismatch"


class SocialOutboundError(AppError):
    """The platform's outbound URL could not be reached, or answered that it is busy (a retry may do)."""

    code = "social_outbound_error"
    http_status = 502


class SocialRefusedError(SocialOutboundError):
    """The platform answered and refused the message for good (a 4xx other than 408 and 429)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
