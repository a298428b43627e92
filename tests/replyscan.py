"""What a reply in one language must not hold: the other Chinese script, Chinese in English, code.

Script checks use OpenCC (`opencc-python-reimplemented`, a dependency): a character that OpenCC's
Simplified-to-Traditional table changes is Simplified-only, one that its Traditional-to-Simplified
table changes is Traditional-only. A few characters are written the same in Hong Kong and Taiwan
usage although the table maps them (`_BOTH`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from opencc import OpenCC

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
# Code in a reply: snake_case names, calls, unfilled placeholders, assignments, Python reprs.
_CODE = (
    (re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"), "snake_case"),
    (re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\((?!\s*[\u4e00-\u9fff])"), "call"),
    (re.compile(r"\{[^{}]*\}|\{\{|\}\}|\{%|%\}"), "placeholder"),
    (re.compile(r"(?<![<>!=])=(?!=)"), "equals sign"),
    (re.compile(r"\b(?:None|True|False|null|undefined|nan|Decimal)\b"), "code value"),
)
# Characters the conversion tables map that are standard in Traditional writing as well.
_BOTH = frozenset("台只著乾")  # 台灣, 隻/只, 著名, 乾坤


@lru_cache(maxsize=2)
def _cc(conversion: str) -> OpenCC:
    return OpenCC(conversion)


@lru_cache(maxsize=20000)
def simplified_only(ch: str) -> bool:
    return bool(_CJK.match(ch)) and ch not in _BOTH and _cc("s2t").convert(ch) != ch


@lru_cache(maxsize=20000)
def traditional_only(ch: str) -> bool:
    return bool(_CJK.match(ch)) and ch not in _BOTH and _cc("t2s").convert(ch) != ch


def literal_text(template: str) -> str:
    """A template's own words: every Jinja expression, statement and comment removed."""
    return _JINJA.sub(" ", template)


def problems(
    text: str, language: str, *, allowed: tuple[str, ...] = (), foreign: tuple[str, ...] = ()
) -> list[str]:
    """What is wrong with `text` as a reply in `language`. `allowed` are proper names from the
    customer's data that may appear as they are (a payee's name); `foreign` are words that must
    not appear at all (the pack's policy labels, in English, inside a Chinese reply)."""
    for name in sorted(allowed, key=len, reverse=True):
        if name:
            text = text.replace(name, " ")
    found: list[str] = []
    if language == "zh-Hant":
        bad = sorted({c for c in text if simplified_only(c)})
        if bad:
            found.append(f"Simplified-only characters in zh-Hant: {''.join(bad)}")
    elif language == "zh-Hans":
        bad = sorted({c for c in text if traditional_only(c)})
        if bad:
            found.append(f"Traditional-only characters in zh-Hans: {''.join(bad)}")
    elif language == "en":
        bad = sorted(set(_CJK.findall(text)))
        if bad:
            found.append(f"Chinese in an English reply: {''.join(bad)}")
    for pattern, what in _CODE:
        hit = pattern.search(text)
        if hit:
            found.append(f"{what}: {hit.group()!r}")
    for word in foreign:
        if word and word in text:
            found.append(f"untranslated: {word!r}")
    return found
