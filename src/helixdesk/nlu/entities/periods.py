"""Installment periods: "12期", "分24期", "分12个月", "6 installments", "12 months" in installment context."""

from __future__ import annotations

import re

from helixdesk.nlu.entities.base import Candidate
from helixdesk.nlu.entities.numbers import parse_number

_ZH_QI = re.compile(
    r"(?<![\d第逾到延零一二两三四五六七八九十])(?:分成?)?(?P<n>\d{1,2}|[一二两三四五六七八九十]{1,3})\s?期"
    r"(?![间货限末刊中初满])"
)
_ZH_MONTHS = re.compile(
    r"(?:分成?|分期)(?P<n>\d{1,2}|[一二两三四五六七八九十]{1,3})个月|(?P<n2>\d{1,2}|[一二两三四五六七八九十]{1,3})个月分期"
)
_EN_INSTALLMENTS = re.compile(
    r"(?<![\d.])(?P<n>\d{1,2})[\s-]?(?:monthly\s)?(?:installments?|instalments?|payments|periods|terms)(?![a-z])"
)
_EN_MONTHS = re.compile(r"(?<![\d.])(?P<n>\d{1,2})[\s-]?months?(?![a-z])(?!\s(?:ago|back|before|later))")
_LOWER_LATIN = re.compile("[a-z]")
_EN_CONTEXT = re.compile(
    r"install?ments?|split|spread|pay(?:ing)? (?:it )?(?:over|back over)|\bplan\b|\bemi\b|分期"
)


def _count(text: str) -> int | None:
    value = parse_number(text)
    if value is None or value != value.to_integral_value() or not 1 <= value <= 60:
        return None
    return int(value)


def find_periods(norm: str) -> list[Candidate]:
    out: list[Candidate] = []
    if "期" in norm:
        for m in _ZH_QI.finditer(norm):
            n = _count(m["n"])
            if n is not None:
                out.append(Candidate("period", n, m.start(), m.end()))
    if "个月" in norm:
        for m in _ZH_MONTHS.finditer(norm):
            n = _count(m["n"] or m["n2"])
            if n is not None:
                out.append(Candidate("period", n, m.start(), m.end()))
    if _LOWER_LATIN.search(norm):  # in C, not a generator per character
        for m in _EN_INSTALLMENTS.finditer(norm):
            n = _count(m["n"])
            if n is not None:
                out.append(Candidate("period", n, m.start(), m.end()))
        if _EN_CONTEXT.search(norm):
            for m in _EN_MONTHS.finditer(norm):
                n = _count(m["n"])
                if n is not None:
                    out.append(Candidate("period", n, m.start(), m.end()))
    return out
