"""Masking personal data so that text stays readable, keeps its language and keeps the useful tail.

| type | masked as | example |
|---|---|---|
| `card_number` | last 4 digits only (PCI DSS allows at most first 6 / last 4) | `**** **** **** 6621` |
| `account_number` | the last 4 digits | `****8012` |
| `id_number` | every letter or digit but the last 4, separators kept | `**************123X` |
| `phone` | country code as typed, a mainland mobile's first 3 and last 4 digits, otherwise last 4 | `+86 138-****-5678`, `+852 ****4567` |
| `email` | the first character of the local part and the domain | `z***@example.com` |
| `secret` | a fixed mask: nothing of a code, password, PIN or CVV is kept | `••••••` |

`mask_text` masks free text and says where each masked span went (offsets in both texts), so NLU
records can be re-pointed at the masked text; `scrub` masks every string inside JSON-like data,
and values under sensitive keys (`number`, `account_number`, `phone`, ...) whatever they look like.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helixdesk.privacy.detect import PiiSpan, find_pii

SECRET_MASK = "••••••"
CARD_MASK = "**** **** **** "
ACCOUNT_MASK = "****"
_BY_VALUE = frozenset({"card_number", "account_number"})  # masked from the folded digits

# Calling codes we show separately; others fall back to "****1234".
_CALLING_CODES = ("852", "853", "886", "86", "65", "44", "61", "81", "82", "1")
_NATIONAL_DIGITS = {"+86": 11, "+852": 8}

# JSON keys whose string values are personal data whatever they look like → how to mask them.
SENSITIVE_KEYS: dict[str, str] = {
    "number": "account_number",
    "account": "account_number",
    "account_number": "account_number",
    "account_no": "account_number",
    "payee_account": "account_number",
    "card_number": "card_number",
    "card_no": "card_number",
    "id_number": "id_number",
    "phone": "phone",
    "mobile": "phone",
    "email": "email",
    "password": "secret",
    "pin": "secret",
    "cvv": "secret",
    "otp": "secret",
}


def mask_phone(phone: str) -> str:
    """A phone number on its own: mainland mobiles as "138****5678", others as "+852 ****1234"."""
    digits = re.sub(r"\D", "", phone)
    international = phone.strip().startswith("+") or phone.strip().startswith("00")
    if phone.strip().startswith("00"):
        digits = digits[2:]
    if len(digits) < 5:
        return "****"
    if international:
        for code in _CALLING_CODES:
            if digits.startswith(code) and len(digits) - len(code) >= 5:
                local = digits[len(code) :]
                if code == "86" and len(local) == 11:
                    return f"{local[:3]}****{local[-4:]}"
                return f"+{code} ****{local[-4:]}"
        return f"+****{digits[-4:]}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    return f"****{digits[-4:]}"


def mask_email(email: str) -> str:
    """Keep the first character of the local part and the domain: "z***@example.com"."""
    local, _, domain = email.strip().partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_destination(channel: str, destination: str) -> str:
    return mask_email(destination) if channel == "email" else mask_phone(destination)


def keep_ends(text: str, *, head: int = 0, tail: int = 4) -> str:
    """Replace every letter or digit by '*' except the first `head` and the last `tail` of them."""
    total = sum(1 for ch in text if ch.isalnum())
    out = []
    seen = 0
    for ch in text:
        if ch.isalnum():
            seen += 1
            out.append(ch if seen <= head or seen > total - tail else "*")
        else:
            out.append(ch)
    return "".join(out)


def _last_digits(value: str, n: int = 4) -> str:
    return "".join(ch for ch in value if ch.isalnum())[-n:]


def _mask_phone_span(text: str, value: str) -> str:
    national = next((n for code, n in _NATIONAL_DIGITS.items() if value.startswith(code)), 0)
    digits = sum(1 for ch in text if ch.isdigit())
    prefix = max(digits - national, 0) if national else 0
    head = prefix + (3 if value.startswith("+86") else 0)
    return keep_ends(text, head=head, tail=4)


def mask_span(span: PiiSpan) -> str:
    """The masked form of one span found by `find_pii`."""
    if span.type == "phone":
        return _mask_phone_span(span.text, span.value)
    return mask_value(span.type, span.value if span.type in _BY_VALUE else span.text)


def mask_value(kind: str, value: str) -> str:
    """Mask a value known to be personal data of type `kind` (from a sensitive JSON key)."""
    if kind == "secret":
        return SECRET_MASK
    if kind == "card_number":
        return CARD_MASK + _last_digits(value)
    if kind == "email":
        return mask_email(value)
    if kind == "phone":
        return mask_phone(value)
    if kind == "account_number":
        return ACCOUNT_MASK + _last_digits(value)
    return keep_ends(value)


@dataclass(frozen=True, slots=True)
class MaskedSpan:
    """One masked span: `start`/`end` in the original text, `masked_start`/`masked_end` in the masked one.

    `raw` is the original text of the span; it lives in memory only (the vault stores it encrypted).
    """

    type: str
    start: int
    end: int
    masked_start: int
    masked_end: int
    masked: str
    raw: str


@dataclass(frozen=True, slots=True)
class Masked:
    text: str
    spans: tuple[MaskedSpan, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.spans)

    def overlaps(self, start: int, end: int) -> bool:
        return any(start < s.end and s.start < end for s in self.spans)

    def map_range(self, start: int, end: int) -> tuple[int, int]:
        """Where `[start, end)` of the original text lies in the masked text (widened to whole spans)."""
        return self._map(start, at_end=False), self._map(end, at_end=True)

    def _map(self, pos: int, *, at_end: bool) -> int:
        shift = 0
        for s in self.spans:
            if pos <= s.start:
                break
            if pos < s.end:
                return s.masked_end if at_end else s.masked_start
            shift = s.masked_end - s.end
        return pos + shift


def mask_text(text: str, *, expect_code: bool = False) -> Masked:
    """`text` with every piece of personal data masked, and where each masked span went."""
    found = find_pii(text, expect_code=expect_code)
    if not found:
        return Masked(text)
    parts: list[str] = []
    spans: list[MaskedSpan] = []
    pos = 0
    length = 0
    for span in found:
        parts.append(text[pos : span.start])
        length += span.start - pos
        masked = mask_span(span)
        spans.append(
            MaskedSpan(span.type, span.start, span.end, length, length + len(masked), masked, span.text)
        )
        parts.append(masked)
        length += len(masked)
        pos = span.end
    parts.append(text[pos:])
    return Masked("".join(parts), tuple(spans))


def scrub(value: Any, *, key: str | None = None) -> Any:
    """A copy of JSON-like `value` with personal data masked in every string.

    Strings under a sensitive key (`SENSITIVE_KEYS`) are masked as that type when they hold
    enough digits to be one (an e-mail address, a phone, or a number of six or more digits);
    other strings are masked wherever `find_pii` finds something.
    """
    if isinstance(value, str):
        kind = SENSITIVE_KEYS.get(key.lower()) if key else None
        if kind is not None and _looks_like(kind, value):
            return mask_value(kind, value)
        return mask_text(value).text
    if isinstance(value, Mapping):
        return {k: scrub(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, key=key) for v in value]
    return value


def _looks_like(kind: str, value: str) -> bool:
    if not value or value == SECRET_MASK or value.startswith((CARD_MASK, ACCOUNT_MASK)):
        return False
    if kind == "secret":
        return True
    if kind == "email":
        return "@" in value
    return sum(1 for ch in value if ch.isdigit()) >= 6 and "*" not in value
