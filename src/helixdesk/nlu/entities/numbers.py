"""Numbers written with Arabic digits, Chinese numerals (incl. financial capitals) or a mix.

Works on the matching text (Simplified, lower-case, half-width): "三千五" → 3500, "1.2万" → 12000,
"十万八千" → 108000, "一百零五" → 105, "3千5" → 3500, "一点五万" → 15000, "1,299.00" → 1299.00.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CN_DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4,
    "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS: dict[str, int] = {"万": 10_000, "亿": 100_000_000}

CN_DIGIT_CHARS = "".join(CN_DIGITS)
CN_NUM_CHARS = CN_DIGIT_CHARS + "".join(SMALL_UNITS) + "".join(BIG_UNITS)

# An Arabic number: 1,299.00 / 3500 / 1.2
ARABIC = r"(?>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)"  # atomic: a digit run is never re-split
# A run that may be a number in any script: Arabic, Chinese, and mixes like 1.2万 / 3千5 / 一点五万.
NUMBER = rf"(?:{ARABIC}|[{CN_NUM_CHARS}])(?:{ARABIC}|[{CN_NUM_CHARS}]|点[{CN_DIGIT_CHARS}\d]{{1,8}}){{0,15}}"

_TOKEN = re.compile(rf"{ARABIC}|点[{CN_DIGIT_CHARS}\d]+|[{CN_NUM_CHARS}]")
_ARABIC_FULL = re.compile(rf"{ARABIC}")


def _dec(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _fraction(digits: str) -> Decimal | None:
    out = []
    for ch in digits:
        if ch.isdigit():
            out.append(ch)
        elif ch in CN_DIGITS:
            out.append(str(CN_DIGITS[ch]))
        else:
            return None
    return Decimal("0." + "".join(out)) if out else None


def parse_number(text: str) -> Decimal | None:
    """Parse one number run; None when it is not a well-formed number (e.g. "千万", "万一")."""
    if not text:
        return None
    if _ARABIC_FULL.fullmatch(text):
        return _dec(text)
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        return None
    total = Decimal(0)  # completed 亿/万 sections
    section = Decimal(0)  # within the current 万 section
    number: Decimal | None = None  # the pending digit/number
    last_unit = 0  # the last unit seen, for abbreviations like 三千五 (= 3500)
    after_zero = False
    digits_run = 0  # consecutive Chinese digits without units (一二三 is not a quantity here)
    seen_any = False
    for tok in tokens:
        if tok.startswith("点"):
            frac = _fraction(tok[1:])
            if frac is None or number is None or number != number.to_integral_value():
                return None
            number += frac
            continue
        if tok in SMALL_UNITS:
            unit = SMALL_UNITS[tok]
            if number is None:
                # a bare 十 reads as 一十: 十五, 一百零十, 十万 (but 千万 / 百千 are not numbers)
                if unit != 10 or (seen_any and not after_zero and last_unit < 10_000):
                    return None
                number = Decimal(1)
            if last_unit and unit >= last_unit and last_unit < 10_000:
                return None  # 百千 / 千千 out of order
            section += number * unit
            number = None
            last_unit = unit
            after_zero = False
            digits_run = 0
            seen_any = True
            continue
        if tok in BIG_UNITS:
            unit = BIG_UNITS[tok]
            if number is None and section == 0:
                return None  # 万一 / 亿万 / 一亿万
            section += number or 0
            if unit == 100_000_000:
                total = (total + section) * unit
            else:
                total += section * unit
            section = Decimal(0)
            number = None
            last_unit = unit
            after_zero = False
            digits_run = 0
            seen_any = True
            continue
        # a digit: Chinese or an Arabic number
        if tok in CN_DIGITS:
            value = Decimal(CN_DIGITS[tok])
            if value == 0:
                after_zero = True
                digits_run = 0
                seen_any = True
                continue
            digits_run += 1
            if digits_run > 1:
                return None
        else:
            parsed = _dec(tok)
            if parsed is None:
                return None
            value = parsed
            digits_run = 0
        if number is not None:
            return None
        number = value
        seen_any = True
    if number is not None:
        if last_unit and not after_zero:
            # 三千五 → 5 × 100; 一万二 → 2 × 1000; 十五 → 5 × 1
            number *= Decimal(last_unit) / 10
        section += number
    result = total + section
    return result if seen_any else None


def has_magnitude(text: str, units: str = "百千万亿kK") -> bool:
    return any(ch in units for ch in text)
