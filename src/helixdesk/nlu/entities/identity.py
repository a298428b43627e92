"""Chinese resident identity numbers (18 characters, GB 11643 checksum, last may be X)."""

from __future__ import annotations

import re

from helixdesk.core.identifiers import id_checksum_ok, resident_id_ok
from helixdesk.nlu.entities.base import Candidate

__all__ = ["find_id_numbers", "id_checksum_ok"]

# 6 + 8 + 4 characters, optionally grouped with a space or a dash ("110101 19900307 123X").
_ID = re.compile(r"(?<![\da-z])(?P<a>\d{6})[\s-]?(?P<b>\d{8})[\s-]?(?P<c>\d{3}[\dx])(?![\da-z])")


def find_id_numbers(norm: str) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _ID.finditer(norm):
        value = (m["a"] + m["b"] + m["c"]).upper()
        if resident_id_ok(value):
            out.append(Candidate("id_number", value, m.start(), m.end()))
    return out
