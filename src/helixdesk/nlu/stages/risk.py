"""Stage `risk`: fraud, vulnerability, escalation and urgency signals with evidence spans."""

from __future__ import annotations

from pathlib import Path

from helixdesk.core.turn import Turn
from helixdesk.nlu.risk import DEFAULT_RISK_PATTERNS_PATH, RiskDetector
from helixdesk.nlu.stage import register_stage


@register_stage("risk")
class RiskStage:
    """Fills `Turn.risk`. Option: `patterns_path`, the risk pattern YAML (default: the retail-bank pack)."""

    def __init__(self, *, patterns_path: str | Path = DEFAULT_RISK_PATTERNS_PATH) -> None:
        self.patterns_path = Path(patterns_path)
        self._detector: RiskDetector | None = None

    def warm_up(self) -> None:
        if self._detector is None:
            self._detector = RiskDetector.from_yaml(self.patterns_path)
            self._detector.detect("预热 warm up")

    def run(self, turn: Turn) -> Turn:
        if self._detector is None:
            self.warm_up()
        assert self._detector is not None
        return turn.with_(risk=self._detector.detect(turn.text, turn.normalized))
