"""Traditional <-> Simplified conversion: OpenCC's output, computed without its per-call overhead.

`opencc-python-reimplemented` (pinned in pyproject.toml) converts a text in three steps:

1. split it at separators (spaces, punctuation) and convert each piece on its own;
2. per piece, for each group of dictionaries in the conversion chain (t2s and s2t have one group:
   phrases, then single characters), build a parse tree: find the longest dictionary key in the
   piece (the leftmost of that length), replace it, and do the same in what is left of it and what
   is right of it, never looking for a key longer than the one just found; the parts where a
   dictionary finds nothing go on to the group's next dictionary;
3. join the pieces and separators back together.

It does that with a tree of Python objects and a scan over every substring length, so a sentence
costs 20-40 us in Simplified (`normalise`) and over 100 us in Traditional (`is_traditional`), and an
English sentence, where nothing ever matches, 40 us. `ScriptConverter` gives the same result:

- a text with no character of any dictionary key is returned as it is (what the library returns
  after all its work), so English costs one set test;
- a piece's matches are found once, trying only the key lengths that occur after its first two
  characters, and the longest-then-leftmost choice is replayed over those matches;
- a group's last dictionary of single characters becomes one `str.translate`.

The dictionaries and the separator pattern are the library's own, read from a converter it built.
Conversions whose dictionaries this model does not cover (a key mapped to an empty value, which the
library treats as no match) are left to the library. `tests/unit/nlu/test_fast_paths.py` compares
both on varied and random text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opencc import OpenCC


@dataclass(frozen=True, slots=True)
class _Dictionary:
    """One OpenCC dictionary: key -> replacement (the first of several), and where keys can start."""

    entries: dict[str, str]
    max_len: int
    # For keys of two or more characters: their first two characters -> their lengths, longest first.
    lengths: dict[str, tuple[int, ...]]
    # For a dictionary of single characters: the `str.translate` table.
    table: dict[int, str]

    @classmethod
    def build(cls, max_len: int, raw: dict[str, str]) -> _Dictionary:
        entries = {key: value.split(" ")[0] for key, value in raw.items()}
        by_prefix: dict[str, set[int]] = {}
        for key in entries:
            by_prefix.setdefault(key[:2], set()).add(len(key))
        lengths = {p: tuple(sorted(n, reverse=True)) for p, n in by_prefix.items()}
        table = {ord(k): v for k, v in entries.items()} if max_len == 1 else {}
        return cls(entries=entries, max_len=max_len, lengths=lengths, table=table)

    def matches(self, piece: str) -> list[tuple[int, int]]:
        """Every (start, length) at which a key occurs in `piece` (keys of two or more characters)."""
        lengths = self.lengths
        entries = self.entries
        size = len(piece)
        found = []
        for i in range(size - 1):
            for n in lengths.get(piece[i : i + 2], ()):
                if i + n <= size and piece[i : i + n] in entries:
                    found.append((i, n))
        return found


class ScriptConverter:
    """`OpenCC(conversion).convert(text)`, faster; see the module docstring."""

    def __init__(self, conversion: str) -> None:
        self._opencc = OpenCC(conversion)
        self._split: re.Pattern[str] = self._opencc.split_chars_re
        self._groups = self._read_groups(self._opencc._dict_chain_data)
        keys = (key for group in self._groups or () for d in group for key in d.entries)
        self._key_chars = frozenset("".join(keys))
        if self._groups is None:  # still skip texts without a key character
            raw = (key for group in self._opencc._dict_chain_data for *_, d in group for key in d)
            self._key_chars = frozenset("".join(raw))

    @staticmethod
    def _read_groups(chain: Any) -> list[list[_Dictionary]] | None:
        """The library's conversion chain as groups of `_Dictionary`, or None when this model does
        not fit it: a key replaced by nothing (the library then skips the whole part), keys of one
        character mixed with longer ones, or single characters before another dictionary."""
        groups: list[list[_Dictionary]] = []
        for group in chain:
            dictionaries = []
            for position, (max_len, _min_len, raw) in enumerate(group):
                lengths = set(map(len, raw))
                single = lengths == {1}
                if not raw or any(not v.split(" ")[0] for v in raw.values()):
                    return None
                if (1 in lengths and not single) or (single and position != len(group) - 1):
                    return None
                dictionaries.append(_Dictionary.build(max_len, raw))
            groups.append(dictionaries)
        return groups

    def convert(self, text: str) -> str:
        if self._key_chars.isdisjoint(text):
            return text  # nothing can match: the library would return the text unchanged
        if self._groups is None:
            return str(self._opencc.convert(text))
        parts = self._split.split(text)
        for i in range(0, len(parts), 2):  # even positions: the text between separators
            piece = parts[i]
            if not self._key_chars.isdisjoint(piece):
                for group in self._groups:
                    piece = _convert_group(piece, group)
                parts[i] = piece
        return "".join(parts)


def _convert_group(piece: str, group: Sequence[_Dictionary]) -> str:
    """What the library's parse tree for one dictionary group makes of `piece`."""
    if not group or not piece:
        return piece
    first, rest = group[0], group[1:]
    if first.table:  # single characters, the group's last dictionary: each is looked up once
        return piece.translate(first.table)
    matches = first.matches(piece)
    if not matches:
        return _convert_group(piece, rest)
    # The tree as a work list of parts (start, end, longest key allowed). A part's longest key,
    # the leftmost of that length, is replaced; the parts left and right of it may only hold keys
    # up to its length. Parts without a key go on to the group's next dictionaries.
    done: list[tuple[int, str]] = []
    todo: list[tuple[int, int, int]] = [(0, len(piece), first.max_len)]
    while todo:
        start, end, limit = todo.pop()
        best: tuple[int, int] | None = None
        for i, n in matches:
            if start <= i and i + n <= end and n <= limit and (best is None or n > best[1]):
                best = (i, n)  # matches are in order of start: the first of a length is leftmost
        if best is None:
            done.append((start, _convert_group(piece[start:end], rest)))
            continue
        i, n = best
        done.append((i, first.entries[piece[i : i + n]]))
        if start < i:
            todo.append((start, i, n))
        if i + n < end:
            todo.append((i + n, end, n))
    done.sort()
    return "".join(text for _, text in done)


__all__ = ["ScriptConverter"]
