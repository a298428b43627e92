"""A run's figures, per persona and per scenario, its release gate, and the JSON report.

Per group of conversations:
- goal completion (the share that reached their goal) and the customer messages it took;
- handoffs: to the queue the scenario expects, explained by the persona's manner, the bot giving
  up (`fallback`), or wrong; and missed ones (the goal was a person and none came);
- invented numbers (numbers in replies without a source), 5xx answers, customers who gave up;
- response time of the customer's messages, p50 and p95;
- a satisfaction proxy on the CSAT scale, 1 to 5, from the persona's patience (`satisfaction`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from helixdesk.simulation.runner import Outcome
from helixdesk.simulation.scenarios import Gate


def satisfaction(o: Outcome) -> float:
    """How pleased the simulated customer leaves, 1 (not at all) to 5, from their patience: a
    customer who gave up is at 1; otherwise every message after the first costs half a patience's
    worth, every repeat of the request 0.15, a wait for a person 0.1 when they wanted one and 0.3
    when not, and a goal not reached 0.3 (of a 0-1 scale mapped onto 1-5)."""
    if o.gave_up:
        return 1.0
    s = 1.0 - 0.5 * max(0, o.messages - 1) / o.patience - 0.15 * o.repeats
    if o.handoff is not None:
        s -= 0.1 if o.verdict == "expected" else 0.3
    if not o.completed:
        s -= 0.3
    return round(1 + 4 * min(1.0, max(0.0, s)), 2)


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (q from 0 to 100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Figures:
    conversations: int
    completed: int
    completion_rate: float
    turns_to_goal: float | None  # mean customer messages to the goal, of those that reached it
    handoffs: int
    handoffs_correct: int  # expected or explained by the persona
    wrong_handoffs: int
    fallback_handoffs: int
    missed_handoffs: int
    invented_numbers: int
    server_errors: int
    gave_up: int
    response_p50_ms: float | None
    response_p95_ms: float | None
    satisfaction: float | None  # mean of the proxy, 1-5

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Figures:
        group = list(outcomes)
        n = len(group)
        done = [o for o in group if o.completed]
        times = [t.ms for o in group for t in o.turns if t.status < 500]
        handed = [o for o in group if o.handoff is not None]
        return cls(
            conversations=n,
            completed=len(done),
            completion_rate=round(len(done) / n, 3) if n else 0.0,
            turns_to_goal=round(sum(o.turns_to_goal or 0 for o in done) / len(done), 2) if done else None,
            handoffs=len(handed),
            handoffs_correct=sum(o.verdict in ("expected", "explained") for o in handed),
            wrong_handoffs=sum(o.verdict == "wrong" for o in handed),
            fallback_handoffs=sum(o.verdict == "fallback" for o in handed),
            missed_handoffs=sum(o.missed for o in group),
            invented_numbers=sum(len(o.invented) for o in group),
            server_errors=sum(len(o.server_errors) for o in group),
            gave_up=sum(o.gave_up for o in group),
            response_p50_ms=percentile(times, 50),
            response_p95_ms=percentile(times, 95),
            satisfaction=round(sum(satisfaction(o) for o in group) / n, 2) if n else None,
        )


@dataclass(frozen=True)
class GateCheck:
    name: str
    value: float
    threshold: float
    passed: bool


def judge_gate(gate: Gate, overall: Figures) -> list[GateCheck]:
    """Every check of the gate: completion at least its rate, each count at most its threshold."""
    checks = [
        GateCheck(
            "completion_rate",
            overall.completion_rate,
            gate.completion_rate,
            overall.completion_rate >= gate.completion_rate,
        )
    ]
    for name in ("wrong_handoffs", "missed_handoffs", "invented_numbers", "server_errors"):
        value, limit = getattr(overall, name), getattr(gate, name)
        checks.append(GateCheck(name, value, limit, value <= limit))
    return checks


def _by(outcomes: list[Outcome], key: Callable[[Outcome], str]) -> dict[str, Figures]:
    names = sorted({key(o) for o in outcomes})
    return {name: Figures.of(o for o in outcomes if key(o) == name) for name in names}


def build_report(outcomes: list[Outcome], gate: Gate, run: dict[str, Any]) -> dict[str, Any]:
    """The whole report as JSON-ready data: the run, the figures overall, per persona and per
    scenario, the gate, and every conversation with its transcript (as stored: masked)."""
    overall = Figures.of(outcomes)
    checks = judge_gate(gate, overall)
    return {
        "run": run,
        "overall": asdict(overall),
        "by_persona": {k: asdict(v) for k, v in _by(outcomes, lambda o: o.persona).items()},
        "by_scenario": {k: asdict(v) for k, v in _by(outcomes, lambda o: o.scenario).items()},
        "gate": {"passed": all(c.passed for c in checks), "checks": [asdict(c) for c in checks]},
        "conversations": [_conversation(o) for o in outcomes],
    }


def _conversation(o: Outcome) -> dict[str, Any]:
    return {
        "number": o.number,
        "scenario": o.scenario,
        "persona": o.persona,
        "language": o.language,
        "customer_ref": o.customer_ref,
        "conversation_id": o.conversation_id,
        "completed": o.completed,
        "turns_to_goal": o.turns_to_goal,
        "messages": len(o.turns),
        "patience": o.patience,
        "repeats": o.repeats,
        "gave_up": o.gave_up,
        "unmet": o.unmet,
        "handoff": o.handoff,
        "handoff_verdict": o.verdict,
        "missed_handoff": o.missed,
        "invented_numbers": o.invented,
        "server_errors": o.server_errors,
        "satisfaction": satisfaction(o),
        "response_ms": [t.ms for t in o.turns],
        "transcript": [
            {"customer": t.said, "status": t.status, "state": t.state, "bot": t.replies} for t in o.turns
        ],
    }
