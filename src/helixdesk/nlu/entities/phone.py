"""Phone numbers: mainland mobiles (1[3-9] + 9 digits, optional +86) and Hong Kong numbers.

A bare 8-digit Hong Kong number counts only with +852/00852 or a phone cue just before it (cues are
listed in both scripts, so the finder also works on text that was not converted to Simplified).
Values are E.164: "+8613812345678", "+85291234567".
"""

from __future__ import annotations

import re

from helixdesk.nlu.entities.base import Candidate

_CN_MOBILE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[\s-]?|\(\+?86\)\s?)?(?P<n>1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?![\d])"
)
_HK_PREFIXED = re.compile(r"(?<![\d+])(?:(?:\+|00)852|\(\+?852\))[\s-]?(?P<n>[2-9]\d{3}[\s-]?\d{4})(?![\d])")
_HK_CUED = re.compile(
    r"(?:电话|手机|手机号|手机号码|联系方式|号码|致电|打给|電話|手機|手機號|手機號碼|聯繫方式|聯絡電話|號碼|致電|打給"
    r"|call|phone|mobile|tel|whatsapp|contact|reach me)"
    r"(?:\s?(?:是|为|:|：|号码|number|no\.?|at|on|is|me at|me on))?\s?(?:是|:|：|is)?\s?"
    r"(?P<n>[569]\d{3}[\s-]?\d{4})(?![\d])"
)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def find_phones(norm: str) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _CN_MOBILE.finditer(norm):
        out.append(Candidate("phone", "+86" + _digits(m["n"]), m.start(), m.end()))
    for m in _HK_PREFIXED.finditer(norm):
        out.append(Candidate("phone", "+852" + _digits(m["n"]), m.start(), m.end()))
    for m in _HK_CUED.finditer(norm):
        out.append(Candidate("phone", "+852" + _digits(m["n"]), m.start("n"), m.end("n")))
    return out
