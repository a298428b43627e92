"""Text helpers shared by NLU stages: width folding, script conversion, character classes."""

from __future__ import annotations

import re
from functools import lru_cache

from helixdesk.nlu.script import ScriptConverter

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_SPACES = re.compile(r"\s+")
# Full-width ASCII (U+FF01-U+FF5E) to its half-width form, the ideographic space to a space.
_HALF_WIDTH = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {0x3000: " "}


@lru_cache(maxsize=1)
def _t2s() -> ScriptConverter:
    return ScriptConverter("t2s")


@lru_cache(maxsize=1)
def _s2t() -> ScriptConverter:
    return ScriptConverter("s2t")


def to_simplified(text: str) -> str:
    """OpenCC t2s (see `helixdesk.nlu.script` for why it is not called directly)."""
    return _t2s().convert(text)


def to_traditional(text: str) -> str:
    """OpenCC s2t (see `helixdesk.nlu.script`)."""
    return _s2t().convert(text)


def fold_width(text: str) -> str:
    """Full-width ASCII to half-width, ideographic space to space; keeps CJK punctuation readable.

    The result has the same length as the input, so character offsets stay valid. One
    `str.translate` does it in C, where a loop over the characters cost a few us per message.
    """
    return text.translate(_HALF_WIDTH)


def fold_lower(text: str) -> str:
    """Width folded and lower-cased, one character for one (no script conversion).

    Characters whose lower case is longer (e.g. 'İ') stay as they are, so offsets stay valid.
    """
    folded = fold_width(text)
    low = folded.lower()
    if len(low) == len(folded):
        return low
    out = []
    for ch in folded:
        lower = ch.lower()
        out.append(lower if len(lower) == 1 else ch)
    return "".join(out)


def normalise(text: str) -> str:
    """Matching form of a message: width folded, lower-cased, Simplified, same length as the input.

    Offsets in the normalised text equal offsets in the original, which lets entity and risk
    stages match on the normalised form and report spans of the original text.
    """
    folded = fold_width(text).lower()
    simplified = to_simplified(folded)
    if len(simplified) != len(folded):  # the converter is character-for-character; stay safe if not
        return folded
    return simplified


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def latin_words(text: str) -> list[str]:
    return _LATIN_WORD.findall(text)


def is_traditional(text: str) -> bool:
    """True when the Chinese in `text` is written in Traditional characters."""
    chinese = "".join(_CJK.findall(text))
    if not chinese:
        return False
    simplified = to_simplified(chinese)
    changed_to_s = sum(a != b for a, b in zip(chinese, simplified, strict=False))
    if changed_to_s == 0:
        return False
    traditional = to_traditional(chinese)
    changed_to_t = sum(a != b for a, b in zip(chinese, traditional, strict=False))
    return changed_to_s >= changed_to_t
