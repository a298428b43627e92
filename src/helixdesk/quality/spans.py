"""Spans of normalised text the quality rules point into: clauses, sentences, trimmed evidence.

Offsets index the normalised text, which has the length of the original (`helixdesk.nlu.text`),
so a span found in one is evidence in the other.
"""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"[，,。.!！?？;；\n：:]")  # not 、: an enumeration stays in its clause
_SENTENCE_END = re.compile(r"[。！？!?\n；;]|(?<!\b\w)\.(?=\s|$)")  # not after one letter: p.a., e.g.


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def clause_start(norm: str, pos: int) -> int:
    start = pos
    while start > 0 and not _CLAUSE.match(norm[start - 1]):
        start -= 1
    return start


def clause_end(norm: str, pos: int) -> int:
    m = _CLAUSE.search(norm, pos)
    return m.start() if m else len(norm)


def sentence_around(norm: str, pos: int) -> tuple[int, int]:
    """The sentence `pos` is in (ends found in context, so "p.a." does not end one)."""
    start = 0
    for m in _SENTENCE_END.finditer(norm):
        if m.end() > pos:
            return start, m.end()
        start = m.end()
    return start, len(norm)


def sentences(norm: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(norm):
        if m.end() - start > 1:
            out.append((start, m.end()))
        start = m.end()
    if len(norm) - start > 0 and norm[start:].strip():
        out.append((start, len(norm)))
    return out
