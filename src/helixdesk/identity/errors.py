"""Errors of the identity step-up, each with a stable code (docs/identity.md, docs/api.md)."""

from __future__ import annotations

from datetime import datetime

from helixdesk.core.errors import AppError, ConflictError, NotFoundError, ValidationFailedError


class IdentityLockedError(AppError):
    """Too many wrong codes: the customer cannot verify (on any channel) until `locked_until`."""

    code = "identity_locked"
    http_status = 423

    def __init__(self, locked_until: datetime) -> None:
        super().__init__(f"identity verification is locked until {locked_until.isoformat()}")
        self.locked_until = locked_until


class ResendTooSoonError(AppError):
    """A code was sent to this customer less than `resend_interval_seconds` ago (another conversation)."""

    code = "verification_resend_too_soon"
    http_status = 429

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"a code was sent moments ago; a new one can be sent at {retry_at.isoformat()}")
        self.retry_at = retry_at


class VerificationCustomerNotFoundError(NotFoundError):
    code = "customer_not_found"


class NoContactOnFileError(ConflictError):
    """The bank has neither a phone number nor an e-mail address for the customer."""

    code = "no_contact_on_file"


class UnsupportedLanguageError(ValidationFailedError):
    code = "unsupported_language"


class UnknownPurposeError(ValidationFailedError):
    code = "unknown_purpose"
