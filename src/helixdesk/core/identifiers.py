"""Check digits of the identifiers a bank's customers type: card numbers, Chinese and Hong Kong IDs.

One implementation, shared by the NLU's entity extractors, the personal-data masking in
`helixdesk.privacy` and the demo bank's generator. Framework-free; inputs are plain ASCII.
"""

from __future__ import annotations

from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First digit of a resident ID's region code: provinces (1-6) and Hong Kong/Macau/Taiwan residents (8).
ID_REGION_FIRST_DIGITS = "1234568"


def _luhn_sum(digits: str, *, double_even: bool) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if (i % 2 == 0) == double_even:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def luhn_ok(digits: str) -> bool:
    """True when a run of ASCII digits passes the Luhn (mod 10) check of card numbers."""
    return _luhn_sum(digits, double_even=False) % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that completes `body` into a Luhn-valid number."""
    return str((10 - _luhn_sum(body, double_even=True) % 10) % 10)


def id_check_char(first17: str) -> str:
    """The 18th character of a Chinese resident ID (GB 11643): a digit or X."""
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_checksum_ok(value: str) -> bool:
    """True for 18 characters whose last one is the GB 11643 check character (X in either case)."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    return id_check_char(value[:17]) == value[17].upper()


def birth_date_ok(yyyymmdd: str) -> bool:
    """A real calendar date from 1900 on, as in a resident ID's digits 7-14."""
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return born.year >= 1900


def resident_id_ok(value: str) -> bool:
    """A plausible 18-character Chinese resident ID: region, birth date and check character."""
    return (
        len(value) == 18
        and value[0] in ID_REGION_FIRST_DIGITS
        and birth_date_ok(value[6:14])
        and id_checksum_ok(value)
    )


def hkid_check_char(prefix: str, digits: str) -> str:
    """The check character of a Hong Kong identity card number: one or two letters and six digits."""
    letters = prefix.upper().rjust(2, " ")
    values = [36 if ch == " " else ord(ch) - 55 for ch in letters] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "A" if check == 10 else str(check)


def hkid_ok(prefix: str, digits: str, check: str) -> bool:
    """True when `check` is the check character of the HKID `prefix` + `digits` (e.g. A, 123456, 3)."""
    if not (1 <= len(prefix) <= 2 and prefix.isalpha() and len(digits) == 6 and digits.isdigit()):
        return False
    return hkid_check_char(prefix, digits) == check.upper()


_TW_LETTERS = "ABCDEFGHJKLMNPQRSTUVXYWZIO"  # A=10, B=11, ... in the order of their two-digit codes


def twid_ok(value: str) -> bool:
    """True when `value` (e.g. A123456789) is a Taiwan national ID with a valid check digit."""
    value = value.upper()
    if len(value) != 10 or value[0] not in _TW_LETTERS or not value[1:].isdigit() or value[1] not in "12":
        return False
    code = _TW_LETTERS.index(value[0]) + 10
    weights = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
    digits = (code // 10, code % 10, *(int(ch) for ch in value[1:]))
    return sum(w * d for w, d in zip(weights, digits, strict=True)) % 10 == 0
