"""Field encryption at rest: AES-256-GCM with a keyring of named keys.

An encrypted value is one text token, `hx1:<key id>:<base64url(nonce + ciphertext + tag)>`, so
every stored value carries the id of the key that encrypted it. `Keyring.encrypt` uses the active
key; `Keyring.decrypt` uses whichever known key the token names. Each value is bound to where it is
stored by associated data (e.g. `notification_outbox.body:<row id>`): a token copied to another
row or column does not decrypt.

Keys are written `KEY_ID:BASE64` (32 random bytes in standard or URL-safe base64), several
separated by commas: `helixdesk keys generate` prints one.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from helixdesk.core.errors import AppError, ConfigurationError

PREFIX = "hx1:"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,31}$")


class EncryptionKeysInvalidError(ConfigurationError):
    """The configured keys cannot be used (bad format, bad base64, wrong length, no active key)."""

    code = "encryption_keys_invalid"


class UnknownKeyError(AppError):
    """A value was encrypted with a key this server does not have."""

    code = "encryption_key_unknown"
    http_status = 500


class DecryptionError(AppError):
    """A value does not decrypt: the key with its id is not the one that encrypted it, or it was altered."""

    code = "decryption_failed"
    http_status = 500


class CiphertextInvalidError(AppError):
    """A stored value is not an encryption token (`hx1:<key id>:<data>`)."""

    code = "ciphertext_invalid"
    http_status = 500


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def key_id_of(token: str) -> str:
    """The key id a token names; `ciphertext_invalid` if it is not a token."""
    if not is_encrypted(token):
        raise CiphertextInvalidError("the value is not an encryption token")
    kid, sep, _ = token[len(PREFIX) :].partition(":")
    if not sep or not KEY_ID.match(kid):
        raise CiphertextInvalidError("the encryption token has no valid key id")
    return kid


def _decode_key(kid: str, text: str) -> bytes:
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionKeysInvalidError(f"key {kid!r} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise EncryptionKeysInvalidError(
            f"key {kid!r} has {len(raw)} bytes; AES-256 keys have {KEY_BYTES} (use `helixdesk keys generate`)"
        )
    return raw


def parse_keys(spec: str) -> dict[str, bytes]:
    """`"kid:base64,kid2:base64"` → {kid: key}. Errors name the key id, never the key."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.replace("\n", ",").split(",")):
        if not part:
            continue
        kid, sep, material = part.partition(":")
        kid = kid.strip()
        if not sep or not KEY_ID.match(kid):
            raise EncryptionKeysInvalidError(
                "each key is KEY_ID:BASE64, the id 1-32 letters, digits, dots or dashes"
            )
        if kid in keys:
            raise EncryptionKeysInvalidError(f"key id {kid!r} is given twice")
        keys[kid] = _decode_key(kid, material)
    if not keys:
        raise EncryptionKeysInvalidError("no encryption key is given")
    return keys


def generate_key(kid: str | None = None) -> str:
    """A new random key as `KEY_ID:BASE64` (the id defaults to `k` + today's date, UTC)."""
    kid = kid or "k" + datetime.now(UTC).strftime("%Y%m%d")
    if not KEY_ID.match(kid):
        raise EncryptionKeysInvalidError("a key id is 1-32 letters, digits, dots or dashes")
    return f"{kid}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip('=')}"


class Keyring:
    """Named AES-256-GCM keys; `active` encrypts, every key decrypts the values that name it."""

    def __init__(self, keys: Mapping[str, bytes], *, active: str) -> None:
        if active not in keys:
            raise EncryptionKeysInvalidError(
                f"the active key {active!r} is not among the keys ({', '.join(sorted(keys))})"
            )
        for kid, key in keys.items():
            if len(key) != KEY_BYTES:
                raise EncryptionKeysInvalidError(f"key {kid!r} must have {KEY_BYTES} bytes")
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active = active

    @classmethod
    def parse(cls, spec: str, *, active: str | None = None) -> Keyring:
        """From `"kid:base64,..."`; without `active`, the only key (several keys need it named)."""
        keys = parse_keys(spec)
        if active is None:
            if len(keys) > 1:
                raise EncryptionKeysInvalidError(
                    "several encryption keys are configured: name the one that encrypts "
                    "(HELIXDESK_ENCRYPTION_ACTIVE_KEY)"
                )
            active = next(iter(keys))
        return cls(keys, active=active)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._ciphers))

    def encrypt(self, plaintext: str, *, aad: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active].encrypt(nonce, plaintext.encode(), aad.encode())
        data = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}{self.active}:{data}"

    def decrypt(self, token: str, *, aad: str) -> str:
        kid = key_id_of(token)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownKeyError(
                f"a value is encrypted with key {kid!r}, which is not configured "
                f"(known: {', '.join(self.key_ids)}); add it to HELIXDESK_ENCRYPTION_KEYS"
            )
        data = token[len(PREFIX) + len(kid) + 1 :]
        try:
            raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            raise CiphertextInvalidError("the encryption token's data is not base64") from None
        if len(raw) < NONCE_BYTES + 16:
            raise CiphertextInvalidError("the encryption token is too short")
        try:
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode())
        except InvalidTag:
            raise DecryptionError(
                f"a value does not decrypt with key {kid!r}: the key material differs from the one "
                "that encrypted it, or the value was altered or moved"
            ) from None
        return plain.decode()

    def is_current(self, token: str) -> bool:
        """Encrypted with the active key (nothing for key rotation to do)."""
        return token.startswith(f"{PREFIX}{self.active}:")

    def reveal(self, value: str, *, aad: str) -> str:
        """Decrypt a token; a value stored before encryption was turned on is returned as it is."""
        return self.decrypt(value, aad=aad) if is_encrypted(value) else value
