"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from helixdesk.auth.errors import WeakPasswordError

_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
# Verified against when the user does not exist, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("helixdesk-dummy-password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def check_password(password: str, *, username: str, min_length: int) -> str:
    """Reject passwords a bank's staff must not use; return the password unchanged."""
    if len(password) < min_length:
        raise WeakPasswordError(f"the password must have at least {min_length} characters")
    if len(set(password)) < 4:
        raise WeakPasswordError("the password must use at least 4 different characters")
    if username.lower() in password.lower():
        raise WeakPasswordError("the password must not contain the user name")
    if len(password) > 256:
        raise WeakPasswordError("the password must have at most 256 characters")
    return password
