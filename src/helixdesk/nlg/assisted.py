"""Replies worded with the optional LLM (docs/llm.md); the template's text is always the fallback.

- `reword`: a reply of kind text, action, fallback or handoff is reworded in the customer's style
  and the reply's language. It is drafted with `<NAME>` where the template puts the customer's
  name. Confirmations, one-time-code messages, product tips, notices and prompts keep their exact
  wording: the customer agrees to, or is told, what the template says.
- `compose`: a knowledge answer is composed from the passages the knowledge base found (each at
  or above its grounding threshold), citing them; the reply's citations become the passages it
  cites. An answer with the knowledge graph's causes and solutions keeps its template.

The guardrails (`helixdesk.llm.guard`) check every answer before it replaces the template's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from helixdesk.bank.connector import Customer
from helixdesk.core.events import Citation
from helixdesk.core.turn import Turn
from helixdesk.llm.assistant import Assistant
from helixdesk.llm.redact import NAME, customer_names

REWORDED_KINDS = frozenset({"text", "action", "fallback", "handoff"})


class Worded(Protocol):
    """A reply's template text and its empathy opening, for a given name."""

    def body(self, name: str) -> str: ...

    def opening(self, name: str) -> str: ...

    def full(self, name: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Drafting:
    assistant: Assistant
    turn: Turn
    language: str
    style: str
    profile: Customer | None
    name: str  # how the reply addresses the customer ("" when it does not)
    conversation_id: str | None


def assist(
    d: Drafting, kind: str, values: Mapping[str, Any], worded: Worded
) -> tuple[str, tuple[Citation, ...], str] | None:
    """The reply's text, citations and the use that wrote it, or None: keep the template's."""
    passages: Sequence[tuple[str, Citation]] = values.get("passages") or ()
    if kind == "answer" and passages and not values.get("explanations"):
        composed = d.assistant.compose(
            question=d.turn.text,
            passages=[text for text, _ in passages],
            language=d.language,
            names=customer_names(d.profile),
            conversation_id=d.conversation_id,
        )
        if composed is None:
            return None
        cited = tuple(passages[i][1] for i in composed.cited)
        return f"{worded.opening(d.name)}{composed.text}", cited, "compose"
    if kind in REWORDED_KINDS:
        reworded = d.assistant.reword(
            draft=worded.full(NAME if d.name else ""),
            customer_text=d.turn.text,
            language=d.language,
            style=d.style,
            names=customer_names(d.profile),
            name=d.name,
            conversation_id=d.conversation_id,
        )
        if reworded is not None:
            return reworded, (), "reword"
    return None
