"""The optional LLM's second opinion of a conversation, beside the rule-based QA result.

A QA reviewer asks for it on the review page (`POST /console/api/quality/conversations/{id}/
second-opinion`). The model reads the masked transcript and the rule-based score and findings, and
gives its own score and concerns, each about one message. It is shown beside the rule-based
result and is never stored as a score, nor does it change a finding: people decide. When the LLM
is off the request is refused (`llm_off`); when its answer fails a guardrail the reply says so and
the rule-based result stands alone.
"""

from __future__ import annotations

from typing import Any

from helixdesk.core.errors import ConflictError
from helixdesk.llm.assistant import Assistant
from helixdesk.quality.review_view import ReviewView


class LlmOffError(ConflictError):
    code = "llm_off"


def check_on(assistant: Assistant | None) -> Assistant:
    if assistant is None or not assistant.can("qa_second_opinion"):
        raise LlmOffError("the LLM's second opinion is off (settings llm_enabled and llm_uses)")
    return assistant


def ask_second_opinion(assistant: Assistant | None, view: ReviewView, *, language: str) -> dict[str, Any]:
    """The rule-based result and, beside it, the model's opinion (None when it gave no usable one)."""
    assistant = check_on(assistant)
    card = view.scorecard
    findings = [
        f"{f['rule']} ({f['severity']}, message {f['message_seq']}): {f['evidence']}"
        if f.get("message_seq") is not None
        else f"{f['rule']} ({f['severity']})"
        for f in view.findings
    ]
    opinion = assistant.second_opinion(
        lines=[(m["seq"], m["sender"], m["text"]) for m in view.messages if m["sender"] != "system"],
        score=card["score"] if card else None,
        findings=findings,
        language=language,
        conversation_id=view.conversation["id"],
    )
    return {
        "conversation_id": view.conversation["id"],
        "rule_based": {"score": card["score"] if card else None, "findings": len(view.findings)},
        "second_opinion": opinion.to_dict() if opinion is not None else None,
    }
