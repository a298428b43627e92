"""What may go into an entry's `details`: small JSON, never raw personal data.

Callers pass identifiers and outcomes (conversation ids, statuses, error codes, counts), not what
the customer typed. As a safety net `scrub` replaces the values of keys that name personal data
(`text`, `phone`, `id_number`, ...) with "[redacted]", masks any run of 7 or more digits standing
alone in a string down to its last 4 ("************1234"), and shortens long strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from helixdesk.audit.errors import AuditInvalidError

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "text",
        "body",
        "message",
        "normalized",
        "code",
        "otp",
        "password",
        "secret",
        "phone",
        "mobile",
        "email",
        "destination",
        "address",
        "name",
        "full_name",
        "id_number",
        "card_number",
        "account_number",
        "api_key",
    }
)
MAX_STRING = 200
MAX_DEPTH = 4
MAX_ITEMS = 50
# A run of 7+ digits standing alone (not inside a hex hash or an id such as "C000001"). A uuid is
# matched whole first and kept: its first group may be 8 digits and its last 12, between hyphens.
_DIGITS = re.compile(
    r"(?P<uuid>(?<![0-9A-Za-z])[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?![0-9A-Za-z]))"
    r"|(?<![0-9A-Za-z])\d{7,}(?![0-9A-Za-z])"
)


def _mask_digits(match: re.Match[str]) -> str:
    if match.group("uuid"):
        return match.group(0)
    digits = match.group(0)
    return "*" * (len(digits) - 4) + digits[-4:]


def scrub(value: Any, *, depth: int = 0) -> Any:
    """A JSON-safe copy of `value` with personal data removed (see the module docstring)."""
    if depth > MAX_DEPTH:
        raise AuditInvalidError("audit details are nested too deeply")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        text = _DIGITS.sub(_mask_digits, value)
        return text if len(text) <= MAX_STRING else text[: MAX_STRING - 1] + "…"
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in list(value.items())[:MAX_ITEMS]:
            key = str(k)
            out[key] = (
                REDACTED
                if key.lower() in SENSITIVE_KEYS and v not in (None, "")
                else scrub(v, depth=depth + 1)
            )
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v, depth=depth + 1) for v in list(value)[:MAX_ITEMS]]
    raise AuditInvalidError(f"audit details must be JSON values, not {type(value).__name__}")
