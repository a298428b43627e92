"""The numbers in a text, as values, so an answer's numbers can be checked against its sources.

`values_in(text)` reads every number a reader would take as a figure, in any of the product's
languages, and gives its value: `1,000` and `1000` and `1000.00` and `一千` and `1千` are the same
value; `1.5万` is 15000; `3.50%` is 3.5. A date or a time gives its parts (`2026-05-01`,
`2026年5月1日` and `May 1, 2026` all give 2026, 5 and 1), so a date written another way is the
same date. English number words count (`three` is 3), and a month name next to a day counts as its
month's number.

Not read as figures:
- the number one written as a word (`一`, `one`): in both languages it is mostly an article or a
  pronoun ("一下", "one of"); the digit 1 is read;
- Chinese words made of numerals that are not figures (十分, 万一, 千万, 一些, 统一, ...);
- a list's item numbers at the start of a line (`1.`, `2)`, `（3）`) and citation marks (`[2]`).

`invented(answer, sources)` lists the answer's numbers whose value is in none of the sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from helixdesk.nlu.entities.numbers import CN_NUM_CHARS, parse_number
from helixdesk.nlu.text import normalise

# Words written with numerals that are not figures (matched on the Simplified, lower-case text).
_NOT_FIGURES = (
    "十分", "万一", "千万", "一些", "一下", "一起", "一样", "一般", "一直", "一定", "一切", "一旦",
    "一致", "一点点", "一同", "一律", "一并", "一概", "一时", "唯一", "统一", "同一", "一再", "再三",
    "三思", "一会儿", "一会", "一番", "一边", "之一", "万无一失", "一心一意", "一模一样", "五花八门",
    "七嘴八舌", "乱七八糟", "不三不四", "一目了然", "一步一步", "一步步", "逐一", "万全", "万分",
    "百分百", "千方百计", "一般来说", "第一时间", "一路", "一向", "一贯", "一系列", "一方面",
)  # fmt: skip
_NOT_FIGURE = re.compile("|".join(sorted(map(re.escape, _NOT_FIGURES), key=len, reverse=True)))
_LIST_MARK = re.compile(r"(?m)^[ \t]*(?:\(?\d{1,2}[.)、](?!\d)|[（(]\d{1,2}[)）])")
_CITATION = re.compile(r"[\[【]\s*\d{1,3}\s*[\]】]")

_ARABIC = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
# Arabic digits with Chinese units (1.5万, 3千5), Chinese numerals, or Arabic digits alone.
_FIGURE = re.compile(rf"(?:{_ARABIC}|[{CN_NUM_CHARS}])(?:{_ARABIC}|[{CN_NUM_CHARS}]|点[{CN_NUM_CHARS}\d]+)*")

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_MONTH = re.compile(rf"\b(?:({_MONTH_NAMES})\s+(?=\d)|(?<=\d)\s+({_MONTH_NAMES})\b)")

_UNITS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_SCALE_NEXT = [[w] for w in _SCALES]
_WORD = "one|a|" + "|".join(sorted([*_UNITS, *_SCALES], key=len, reverse=True))
_WORDS = re.compile(rf"\b(?:{_WORD})(?:[\s-]+(?:and\s+)?(?:{_WORD}))*\b")


def values_in(text: str) -> list[tuple[str, Decimal]]:
    """Each figure of `text` (as written) with its value, in order."""
    norm = normalise(text)
    norm = _CITATION.sub(" ", norm)
    norm = _LIST_MARK.sub(" ", norm)
    norm = _NOT_FIGURE.sub(lambda m: " " * len(m.group()), norm)
    found: list[tuple[str, Decimal]] = []
    for m in _MONTH.finditer(norm):
        name = (m.group(1) or m.group(2)).rstrip(".")
        found.append((name, Decimal(_MONTHS[name[:4] if name.startswith("sept") else name[:3]])))
    for m in _WORDS.finditer(norm):
        value = _words_value(m.group())
        if value is not None:
            found.append((m.group(), value))
    for m in _FIGURE.finditer(norm):
        found += _figure(m.group())
    return found


def _figure(run: str) -> list[tuple[str, Decimal]]:
    if run in ("一", "壹"):
        return []  # the word "one": an article more often than a figure
    value = parse_number(run)
    if value is not None:
        return [(run, value)]
    # Not one number (a date run together, "2026年5月1日" has none; digits and numerals mixed
    # oddly): read its Arabic parts and its Chinese parts each on their own.
    out: list[tuple[str, Decimal]] = []
    for part in re.findall(rf"{_ARABIC}|[{CN_NUM_CHARS}]+", run):
        if part in ("一", "壹"):
            continue
        parsed = parse_number(part)
        if parsed is not None:
            out.append((part, parsed))
        else:
            out += [(ch, Decimal(parse_number(ch) or 0)) for ch in part if ch not in "一壹十百千万亿拾佰仟"]
    return out


def _words_value(phrase: str) -> Decimal | None:
    """The value of English number words ("twenty-five", "two hundred", "a thousand"); None for
    "one" or "a" on their own."""
    words = [w for w in re.split(r"[\s-]+", phrase) if w and w != "and"]
    # "a"/"one" count only before a scale ("a hundred"): "a three-day wait" is three.
    words = [w for i, w in enumerate(words) if w not in ("one", "a") or words[i + 1 : i + 2] in _SCALE_NEXT]
    if not words:
        return None
    total = 0
    current = 0
    for w in words:
        if w in ("one", "a"):
            current += 1
        elif w in _UNITS:
            current += _UNITS[w]
        else:
            scale = _SCALES[w]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
    return Decimal(total + current)


def values_of(texts: Iterable[str]) -> set[Decimal]:
    return {value for text in texts for _, value in values_in(text)}


def invented(answer: str, sources: Iterable[str]) -> list[str]:
    """The numbers of `answer` (as written) whose value none of `sources` holds."""
    known = values_of(sources)
    return [written for written, value in values_in(answer) if value not in known]
