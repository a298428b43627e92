"""The suite's figures (resolution rate overall, per language and per category; risk routing;
invented numbers; 5xx; language) and the wording of every failure, for the test and the benchmark."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tests.scenarios.model import LANGUAGES
from tests.scenarios.runner import Result


@dataclass(frozen=True)
class Rate:
    done: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.done}/{self.total} ({self.percent:.1f}%)"


def rate(results: Iterable[Result]) -> Rate:
    items = list(results)
    return Rate(sum(r.resolved for r in items), len(items))


@dataclass(frozen=True)
class Summary:
    overall: Rate
    routine: Rate
    risk: Rate
    by_language: dict[str, Rate]
    routine_by_language: dict[str, Rate]
    right_queue: Rate
    right_turn: Rate
    packet_fact: Rate
    fraud_first_message: Rate  # fraud reported in the first message: at the fraud queue on it
    fraud_mid_task: Rate  # fraud reported in the middle of another task: on that message
    invented_numbers: int
    server_errors: int
    language_problems: int
    replies: int


def summarise(results: list[Result]) -> Summary:
    routine = [r for r in results if r.conversation.category == "routine"]
    risk = [r for r in results if r.conversation.category == "risk"]
    fraud = [r for r in risk if r.conversation.handoff and r.conversation.handoff.queue == "fraud"]
    first = [r for r in fraud if r.conversation.handoff and r.conversation.handoff.turn == 1]

    def queue_ok(r: Result) -> bool:
        return r.conversation.handoff is not None and r.handoff_queue == r.conversation.handoff.queue

    def turn_ok(r: Result) -> bool:
        return (
            queue_ok(r)
            and r.conversation.handoff is not None
            and r.handoff_turn == r.conversation.handoff.turn
        )

    return Summary(
        overall=rate(results),
        routine=rate(routine),
        risk=rate(risk),
        by_language={lang: rate(r for r in results if r.conversation.language == lang) for lang in LANGUAGES},
        routine_by_language={
            lang: rate(r for r in routine if r.conversation.language == lang) for lang in LANGUAGES
        },
        right_queue=Rate(sum(queue_ok(r) for r in risk), len(risk)),
        right_turn=Rate(sum(turn_ok(r) for r in risk), len(risk)),
        packet_fact=Rate(sum(bool(r.packet_ok) for r in risk), len(risk)),
        fraud_first_message=Rate(sum(turn_ok(r) for r in first), len(first)),
        fraud_mid_task=Rate(sum(turn_ok(r) for r in fraud if r not in first), len(fraud) - len(first)),
        invented_numbers=sum(len(r.invented) for r in results),
        server_errors=sum(len(r.server_errors) for r in results),
        language_problems=sum(len(r.language) for r in results),
        replies=sum(len(t.replies) for r in results for t in r.turns),
    )


def summary_lines(s: Summary) -> list[str]:
    lines = [
        f"conversations resolved: {s.overall}",
        f"  routine: {s.routine}   risk: {s.risk}",
        "  by language: " + "   ".join(f"{k} {v}" for k, v in s.by_language.items()),
        "  routine by language: " + "   ".join(f"{k} {v}" for k, v in s.routine_by_language.items()),
        f"risk routing: right queue {s.right_queue}, on the expected message {s.right_turn}, "
        f"key fact in the packet {s.packet_fact}",
        f"fraud: at the fraud queue on the first message {s.fraud_first_message}, "
        f"reported in the middle of another task and routed on that message {s.fraud_mid_task}",
        f"invented numbers: {s.invented_numbers}   5xx: {s.server_errors}   "
        f"replies out of language or with code-like text: {s.language_problems} (of {s.replies} replies)",
    ]
    return lines


def _clip(text: str, limit: int = 400) -> str:
    text = " ⏎ ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_lines(results: list[Result]) -> list[str]:
    """Each failing conversation: what went wrong, the customer's wording and the bot's replies."""
    out: list[str] = []
    for r in results:
        if r.resolved and not r.invented and not r.language:
            continue
        c = r.conversation
        who = r.customer_ref or "visitor"
        out.append(f"[{c.id}] {c.language} {c.category} ({who})")
        out += [f"  ✗ {p}" for p in r.server_errors + r.failures]
        out += [f"  ✗ turn {n}: invented number {num!r}" for n, num, _ in r.invented]
        out += [f"  ✗ turn {n}: {problem}" for n, problem, _ in r.language]
        for t in r.turns:
            out.append(f"    {t.n}> {t.said}" + (f"   [not sent: {t.skipped}]" if t.skipped else ""))
            for reply in t.replies:
                out.append(f"       bot: {_clip(reply)}")
    return out


def transcripts(results: list[Result]) -> list[dict[str, object]]:
    """Every conversation as JSON-ready data: the customer's turns, the bot's replies, the verdicts."""
    return [
        {
            "id": r.conversation.id,
            "language": r.conversation.language,
            "category": r.conversation.category,
            "customer": r.customer_ref,
            "resolved": r.resolved,
            "failures": r.server_errors + r.failures,
            "invented": [{"turn": n, "number": x} for n, x, _ in r.invented],
            "language_problems": [{"turn": n, "problem": x} for n, x, _ in r.language],
            "handoff": {"queue": r.handoff_queue, "turn": r.handoff_turn, "packet_ok": r.packet_ok},
            "turns": [
                {"n": t.n, "said": t.said, "status": t.status, "replies": t.replies, "skipped": t.skipped}
                for t in r.turns
            ],
        }
        for r in results
    ]
