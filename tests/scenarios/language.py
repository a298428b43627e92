"""Is a reply in the customer's language and script, and free of code-like text?

- zh-Hant: no character that exists only in Simplified Chinese (OpenCC's dictionaries: a key of
  the Simplified-to-Traditional table that maps only to other characters and is not itself a
  Traditional character), and no untranslated English sentence;
- zh-Hans: no Traditional-only character, and no untranslated English sentence;
- en: no Chinese characters;
- every language: no code-like text (`round_half_up_cent(`, `snake_case_words`, `{placeholders}`).

Only the customer's own words may be quoted as they were written (a name they typed in Chinese in
an English message); names from the bank's records are worded in the reply's language and script.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import opencc

_DICTS = Path(opencc.__file__).resolve().parent / "dictionary"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ENGLISH_RUN = re.compile(r"[A-Za-z][a-z']+(?:[ ,]+[A-Za-z][a-z']+){3,}")
CODE_LIKE = (
    re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\("),  # a call: round_half_up_cent(
    re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),  # snake_case_words
    re.compile(r"\{\{|\}\}|\{%|%\}|\{[A-Za-z_][\w.]*\}"),  # template syntax, {placeholders}
    re.compile(r"\b(?:None|null|undefined|NaN)\b|Decimal\(|\[object"),
)


def _table(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (_DICTS / name).read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if key:
            out[key] = values.split()
    return out


@cache
def simplified_only() -> frozenset[str]:
    s2t, t2s = _table("STCharacters.txt"), _table("TSCharacters.txt")
    traditional = set(t2s) | {v for values in s2t.values() for v in values}
    return frozenset(k for k, values in s2t.items() if k not in values and k not in traditional)


@cache
def traditional_only() -> frozenset[str]:
    s2t, t2s = _table("STCharacters.txt"), _table("TSCharacters.txt")
    simplified = set(s2t) | {v for values in t2s.values() for v in values}
    return frozenset(k for k, values in t2s.items() if k not in values and k not in simplified)


def _without(text: str, quoted: list[str]) -> str:
    for q in sorted((q for q in quoted if q.strip()), key=len, reverse=True):
        text = text.replace(q, " ")
    return text


def language_problems(text: str, language: str, quoted: list[str]) -> list[str]:
    """What is wrong with a reply for a customer writing in `language` (empty when nothing is)."""
    problems = [f"code-like text {m.group(0)!r}" for p in CODE_LIKE for m in p.finditer(text)]
    rest = _without(text, quoted)
    if language == "en":
        chinese = "".join(dict.fromkeys(CJK.findall(rest)))
        if chinese:
            problems.append(f"Chinese characters in an English reply: {chinese[:20]}")
        return problems
    wrong = simplified_only() if language == "zh-Hant" else traditional_only()
    found = "".join(dict.fromkeys(ch for ch in rest if ch in wrong))
    if found:
        script = "Simplified" if language == "zh-Hant" else "Traditional"
        problems.append(f"{script} characters in a {language} reply: {found[:20]}")
    for m in ENGLISH_RUN.finditer(rest):
        problems.append(f"English in a {language} reply: {m.group(0)[:60]!r}")
    if not CJK.search(rest) and re.search(r"[A-Za-z]{3,}", rest):
        problems.append(f"a reply in English to a {language} customer")
    return problems
