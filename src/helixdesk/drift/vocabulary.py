"""The vocabulary drift monitoring counts: the NLU's own word tokens of a message.

A message's tokens are the intent model's word tokens (`helixdesk.nlu.features.tokenize`: jieba
for Chinese, letters and digits for the rest) of its normalised text (Simplified, lower case), so
Traditional and Simplified spellings of a word are one token. Tokens that say nothing about the
language in use are left out: anything with a digit (amounts, dates, the tails masking leaves of a
card or phone number), single Latin letters, and tokens longer than `MAX_TOKEN` characters.

The reference vocabulary always holds the words of the pack's training examples (`pack_vocabulary`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from helixdesk.nlu.features import tokenize
from helixdesk.nlu.intent.data import load_examples
from helixdesk.nlu.text import normalise

MAX_TOKEN = 32
_DIGIT = re.compile(r"\d")


def tokens(text: str) -> list[str]:
    """The vocabulary tokens of one message (see the module docstring)."""
    if not text.strip():
        return []
    return [
        t
        for t in tokenize(normalise(text))
        if len(t) <= MAX_TOKEN and not _DIGIT.search(t) and not (len(t) == 1 and t.isascii())
    ]


def counted(texts: Iterable[str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for text in texts:
        out.update(tokens(text))
    return out


@lru_cache(maxsize=4)
def pack_vocabulary(pack_path: Path) -> frozenset[str]:
    """Every token of the pack's intent training examples (`nlu/intents/*.yaml`)."""
    return frozenset(counted(e.text for e in load_examples(pack_path)))
