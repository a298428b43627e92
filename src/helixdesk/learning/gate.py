"""The release gate (pure): a candidate may replace the live model only if, on the fixed regression
set, no label's F1 is lower than the live model's by more than the tolerance
(`learning_gate_tolerance`). Out of scope counts as a label like any other, so a candidate that
stops recognising out-of-scope messages fails too. Without a live model there is nothing to be
worse than, and the gate passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Worse:
    label: str
    live_f1: float
    candidate_f1: float
    support: int

    @property
    def drop(self) -> float:
        return self.live_f1 - self.candidate_f1


@dataclass(frozen=True, slots=True)
class GateResult:
    passed: bool
    tolerance: float
    live_version: str | None
    worse: list[Worse] = field(default_factory=list)
    regression_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "worse": [{**asdict(w), "drop": round(w.drop, 4)} for w in self.worse],
        }

    def explain(self) -> str:
        if self.passed:
            return "passes the gate"
        labels = ", ".join(f"{w.label} {w.live_f1:.3f}->{w.candidate_f1:.3f}" for w in self.worse[:8])
        more = f" and {len(self.worse) - 8} more" if len(self.worse) > 8 else ""
        return (
            f"worse than the live model {self.live_version} on the regression set beyond the tolerance "
            f"{self.tolerance:g} (F1 per label: {labels}{more})"
        )


def gate(
    candidate: dict[str, Any], live: dict[str, Any] | None, *, tolerance: float, live_version: str | None
) -> GateResult:
    """Compare two reports (`learning.report.model_report`) on the same regression set."""
    if live is None:
        return GateResult(True, tolerance, None)
    sha = (candidate.get("regression") or {}).get("sha256")
    if sha != (live.get("regression") or {}).get("sha256"):
        raise ValueError("the two reports are on different regression sets")
    theirs = {r["label"]: r for r in live.get("per_label") or []}
    ours = {r["label"]: r for r in candidate.get("per_label") or []}
    worse = []
    for label, row in sorted(theirs.items()):
        if not row.get("support"):
            continue
        cand_f1 = float((ours.get(label) or {}).get("f1", 0.0))
        live_f1 = float(row["f1"])
        if cand_f1 < live_f1 - tolerance - 1e-9:
            worse.append(Worse(label, live_f1, cand_f1, int(row["support"])))
    worse.sort(key=lambda w: -w.drop)
    return GateResult(not worse, tolerance, live_version, worse, sha)
