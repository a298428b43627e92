"""The customer as the suitability gate sees them in a bot turn (for tips and lifecycle touches)."""

from __future__ import annotations

from helixdesk.dialogue.context import TurnContext
from helixdesk.dialogue.state import DialogueState
from helixdesk.lifecycle.suitability import COMPLAINT_INTENTS, FRAUD_INTENTS, Subject


def tip_subject(ctx: TurnContext, state: DialogueState, intent: str | None) -> Subject:
    """The customer as the suitability gate sees them in this turn: their profile's tolerance and
    age, and whether this request, an earlier one of the conversation (its last ten) or an issue
    left open is a complaint or a fraud report."""
    profile = ctx.customer.profile
    open_issues = {i.intent for i in ctx.customer.open_issues if i.status == "open"}
    intents = open_issues | set(state.intents) | {intent or ""}
    return Subject(
        risk_tolerance=profile.risk_tolerance if profile else None,
        age=profile.age(ctx.now.date()) if profile else None,
        open_complaint=bool(intents & COMPLAINT_INTENTS),
        fraud_report=bool(intents & FRAUD_INTENTS),
    )
