"""The audit chain's key, from the settings."""

from __future__ import annotations

from helixdesk.audit.chain import derive_key
from helixdesk.core.secrets import resolve_secret_key
from helixdesk.core.settings import Settings


def resolve_audit_key(settings: Settings) -> bytes:
    """The audit chain's HMAC key: from `audit_key` if set, otherwise derived from the secret key."""
    if settings.audit_key is not None:
        return derive_key(settings.audit_key.get_secret_value().encode())
    return derive_key(resolve_secret_key(settings))
