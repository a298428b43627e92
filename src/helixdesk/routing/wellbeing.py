"""An agent's emotional load from the conversations they handled recently.

Each conversation adds `negativity × min(1, minutes / full_weight) × 0.5^(age / half_life)`:
how negative the customer was (0-1), how long the agent spent with it, and how long ago it ended
(a conversation still open has age 0). "In a row" counts the most recent conversations that were
intense, stopping at the first that was not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from helixdesk.routing.config import Wellbeing


@dataclass(frozen=True, slots=True)
class Handled:
    negativity: float
    claimed_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Load:
    load: float
    intense_in_a_row: int
    conversations: int
    break_suggested: bool


def emotional_load(handled: Sequence[Handled], *, now: datetime, policy: Wellbeing) -> Load:
    total = 0.0
    recent = [h for h in handled if (now - h.claimed_at).total_seconds() <= policy.window_hours * 3600]
    for h in recent:
        end = h.closed_at or now
        minutes = max(0.0, (end - h.claimed_at).total_seconds() / 60)
        age = max(0.0, (now - end).total_seconds() / 60)
        weight = min(1.0, minutes / policy.full_weight_minutes) * 0.5 ** (age / policy.half_life_minutes)
        total += h.negativity * weight
    in_a_row = 0
    for h in sorted(recent, key=lambda x: x.claimed_at, reverse=True):
        if h.negativity < policy.intense:
            break
        in_a_row += 1
    suggest = total >= policy.break_after_load or in_a_row >= policy.break_after_in_a_row
    return Load(
        load=round(total, 3), intense_in_a_row=in_a_row, conversations=len(recent), break_suggested=suggest
    )
