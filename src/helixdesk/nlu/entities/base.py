"""Shared pieces of the entity extractors: candidates, overlap resolution, the matching text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from helixdesk.core.turn import Entity
from helixdesk.nlu.text import fold_lower, normalise

# Higher wins when two candidates cover exactly as many characters (longest span wins first).
PRIORITY: dict[str, int] = {
    "id_number": 90,
    "card_number": 85,
    "transaction_id": 80,
    "card_tail": 75,
    "phone": 70,
    "money": 60,
    "date": 50,
    "period": 45,
    "merchant": 40,
    "currency": 30,
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible entity: `start`/`end` index both the original and the matching text."""

    type: str
    value: Any
    start: int
    end: int
    bonus: int = 0  # added to the type's priority, e.g. a transaction id announced by a cue word

    @property
    def rank(self) -> tuple[int, int, int]:
        return (self.end - self.start, PRIORITY.get(self.type, 0) + self.bonus, -self.start)


def matching_text(text: str, normalized: str = "") -> str:
    """The form extractors match on: width-folded, lower-case, Simplified, same length as `text`.

    Uses `Turn.normalized` when the normalise stage filled it; otherwise computes it. Falls back to a
    character-by-character fold when a conversion would change the length (e.g. 'İ'.lower()).
    """
    candidate = normalized or normalise(text)
    if len(candidate) == len(text):
        return candidate
    return fold_lower(text)


def resolve(candidates: Iterable[Candidate], text: str) -> tuple[Entity, ...]:
    """Keep non-overlapping candidates, longest span first, then by type priority; sort by start."""
    taken: list[Candidate] = []
    for cand in sorted(candidates, key=lambda c: c.rank, reverse=True):
        if cand.end <= cand.start:
            continue
        if any(cand.start < t.end and t.start < cand.end for t in taken):
            continue
        taken.append(cand)
    taken.sort(key=lambda c: (c.start, c.end))
    return tuple(
        Entity(type=c.type, value=c.value, text=text[c.start : c.end], start=c.start, end=c.end)
        for c in taken
    )
