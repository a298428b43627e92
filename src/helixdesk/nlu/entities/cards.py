"""Bank cards: a full card number that passes the Luhn check, and a card's last digits ("尾号6621")."""

from __future__ import annotations

import re

from helixdesk.core.identifiers import luhn_ok
from helixdesk.nlu.entities.base import Candidate

__all__ = ["find_card_numbers", "find_card_tails", "luhn_ok"]

# Digits with single spaces, dashes or dots between them (4012.8888.8888.1881), not glued to
# letters or other digits.
_DIGIT_RUN = re.compile(r"(?<![\da-z])\d(?:[ .-]?\d){12,}(?![\da-z])")
_GROUP = re.compile(r"\d+")

_TAIL_ZH = re.compile(
    r"(?:卡号|卡)?(?:尾号|尾数|末尾|末四位|末4位|后四位|后4位|最后四位|最后4位)"
    r"(?:数字|号码)?(?:是|为|:|：)?\s?(?P<d>\d{4})(?![\d])"
)
_TAIL_EN = re.compile(
    r"(?<![a-z])(?:(?:card\s)?end(?:ing|s)?(?:\s(?:in|with))?|last\s(?:four|4)(?:\sdigits)?(?:\s(?:are|is|of))?"
    r"|tail(?:\snumber)?)(?:\s?[:#])?\s?(?P<d>\d{4})(?![\d])"
)
_MASKED = re.compile(r"(?<![\d*x])(?:[*x•]{4}[\s-]?){1,4}(?P<d>\d{4})(?![\d])")

_CARD_CUE = re.compile(r"卡号|银行卡|信用卡|借记卡|card")


def find_card_numbers(norm: str) -> list[Candidate]:
    """Every Luhn-valid card number, also several in one run of digit groups ("4111… 5500…")."""
    out: list[Candidate] = []
    for m in _DIGIT_RUN.finditer(norm):
        groups = [(g.start(), g.end(), g.group()) for g in _GROUP.finditer(m.group())]
        # From the left: the longest run of whole groups with 13-19 digits that passes Luhn
        # (a card number followed by an amount, or a list of numbers written with spaces);
        # after a card, look again from the group that follows it.
        first = 0
        while first < len(groups):
            best: tuple[int, int, str] | None = None
            digits = ""
            for last in range(first, len(groups)):
                digits += groups[last][2]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and digits[0] != "0" and luhn_ok(digits):
                    best = (last, m.start() + groups[last][1], digits)
            if best is None:
                first += 1
                continue
            out.append(Candidate("card_number", best[2], m.start() + groups[first][0], best[1]))
            first = best[0] + 1
    return out


def find_card_tails(norm: str) -> list[Candidate]:
    out: list[Candidate] = []
    for pattern in (_TAIL_ZH, _TAIL_EN, _MASKED):
        for m in pattern.finditer(norm):
            out.append(Candidate("card_tail", m["d"], m.start(), m.end()))
    return out
