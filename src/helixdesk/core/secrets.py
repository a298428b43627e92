"""The server secret used for HMACs (one-time codes): `HELIXDESK_SECRET_KEY`, or a generated key file.

When `secret_key` is not set, a random 256-bit key is generated once and kept in
`<var>/secret_key` (mode 0600), where `<var>` is the folder of the SQLite database, or `./var`
for PostgreSQL. A warning is logged: set `HELIXDESK_SECRET_KEY` in production, and always when
several hosts share one database (each host would otherwise generate its own key).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret_key"


def var_dir(settings: Settings) -> Path:
    """Where generated key files live: the SQLite database's folder, or ./var with PostgreSQL."""
    path = settings.sqlite_path
    return path.parent if path is not None else Path("var")


def secret_key_file(settings: Settings) -> Path:
    return var_dir(settings) / KEY_FILE_NAME


def resolve_secret_key(settings: Settings) -> bytes:
    """The configured secret, or the generated one from the key file (created on first use)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    file = secret_key_file(settings)
    log.warning(
        "HELIXDESK_SECRET_KEY is not set; using the generated key in %s. Set it in production, "
        "and on every host when several hosts share the database.",
        file,
    )
    key = load_or_create(file, lambda: secrets.token_hex(32))
    if len(key) < 32:
        raise ConfigurationError(
            f"{file} holds a key shorter than 32 characters; delete it to generate a new one",
            code="secret_key_invalid",
        )
    return key.encode()


def load_or_create(file: Path, make: Callable[[], str]) -> str:
    """The key file's content; created first (mode 0600) with `make()` when it does not exist.

    The new key is written to a temporary file and linked into place, so racing processes agree.
    """
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(make() + "\n")
        try:
            os.link(tmp, file)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            tmp.unlink()
    return file.read_text(encoding="ascii").strip()
