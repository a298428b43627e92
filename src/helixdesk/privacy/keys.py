"""The encryption keyring of a running Helixdesk, from settings or a generated key file.

`HELIXDESK_ENCRYPTION_KEYS` holds `KEY_ID:BASE64` keys separated by commas and
`HELIXDESK_ENCRYPTION_ACTIVE_KEY` names the one that encrypts (optional with a single key). When no
keys are configured, one key is generated once into `<var>/encryption_keys` (mode 0600, next to the
SQLite database, or ./var with PostgreSQL) and a warning is logged: fine for a single machine and
the demo; in production the keys come from the bank's secret store, the same on every host.
"""

from __future__ import annotations

import logging
from pathlib import Path

from helixdesk.core.secrets import load_or_create, var_dir
from helixdesk.core.settings import Settings
from helixdesk.privacy.crypto import EncryptionKeysInvalidError, Keyring, generate_key

log = logging.getLogger(__name__)

KEYS_FILE_NAME = "encryption_keys"


def keys_file(settings: Settings) -> Path:
    return var_dir(settings) / KEYS_FILE_NAME


def resolve_keyring(settings: Settings) -> Keyring:
    """The configured keys, or the generated development key (created on first use)."""
    if settings.encryption_keys is not None:
        return Keyring.parse(
            settings.encryption_keys.get_secret_value(), active=settings.encryption_active_key
        )
    file = keys_file(settings)
    log.warning(
        "HELIXDESK_ENCRYPTION_KEYS is not set; personal data is encrypted with the generated key in %s. "
        "Set the keys in production, and on every host when several hosts share the database.",
        file,
    )
    spec = load_or_create(file, lambda: generate_key("local"))
    try:
        return Keyring.parse(spec, active=settings.encryption_active_key)
    except EncryptionKeysInvalidError as e:
        raise EncryptionKeysInvalidError(f"{file}: {e.detail}") from None
