"""Stage `normalise`: the matching form of the text (width, case, Traditional→Simplified)."""

from __future__ import annotations

from helixdesk.core.turn import Turn
from helixdesk.nlu.stage import register_stage
from helixdesk.nlu.text import normalise


@register_stage("normalise")
class NormaliseStage:
    """Keeps `Turn.text` as typed (replies use its script) and fills `Turn.normalized`.

    The normalised text has exactly the length of the original, so offsets carry over.
    """

    def __init__(self) -> None:
        pass

    def warm_up(self) -> None:
        normalise("预热")

    def run(self, turn: Turn) -> Turn:
        return turn.with_(normalized=normalise(turn.text))
