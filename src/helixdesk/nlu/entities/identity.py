"""Chinese resident identity numbers (18 characters, GB 11643 checksum, last may be X)."""

from __future__ import annotations

import re
from datetime import date

from helixdesk.nlu.entities.base import Candidate

_ID = re.compile(r"(?<![\da-z])(?P<a>\d{6})\s?(?P<b>\d{8})\s?(?P<c>\d{3}[\dx])(?![\da-z])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_checksum_ok(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(ch) * w for ch, w in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == value[17].upper()


def _birth_ok(yyyymmdd: str) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return born.year >= 1900


def find_id_numbers(norm: str) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _ID.finditer(norm):
        value = (m["a"] + m["b"] + m["c"]).upper()
        if value[0] in "1234568" and _birth_ok(m["b"]) and id_checksum_ok(value):
            out.append(Candidate("id_number", value, m.start(), m.end()))
    return out
