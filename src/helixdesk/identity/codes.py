"""One-time codes: generating, hashing (HMAC-SHA256) and finding one in what the customer typed."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

_CHINESE_DIGITS = str.maketrans("零〇一二三四五六七八九", "00123456789")
# Digits, optionally separated by one space, hyphen or dot ("123 456", "123-456").
_RUN = re.compile(r"(?<!\d)\d(?:[ \-.]?\d)*(?!\d)")


def generate_code(length: int) -> str:
    """A uniformly random numeric code of `length` digits (leading zeros allowed)."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def code_hmac(secret: bytes, challenge_id: str, code: str) -> str:
    """HMAC-SHA256(secret, challenge id + ":" + code) as hex: what is stored instead of the code."""
    return hmac.new(secret, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def codes_match(secret: bytes, challenge_id: str, code: str, stored_hmac: str) -> bool:
    """Constant-time comparison of a typed code with the stored HMAC."""
    return hmac.compare_digest(code_hmac(secret, challenge_id, code), stored_hmac)


def looks_like_code(text: str, code_length: int) -> str | None:
    """The code the customer typed, or None when there is none or more than one candidate.

    Accepts "123456", "验证码是 123 456", "my code is 123-456", full-width digits and Chinese
    digits ("一二三四五六"). A run of digits of another length (a phone number, an amount) is
    not a code.
    """
    normalised = unicodedata.normalize("NFKC", text).translate(_CHINESE_DIGITS)
    found = {
        digits for run in _RUN.findall(normalised) if len(digits := re.sub(r"\D", "", run)) == code_length
    }
    if len(found) != 1:
        return None
    return found.pop()
