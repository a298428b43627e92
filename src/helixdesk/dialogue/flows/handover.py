"""Handing the conversation to a person for a trigger's reason (`helixdesk.dialogue.triggers`).

Triggers 1-7 are checked before the bot acts on the message, so a conversation going to a person
gets no one-time code or action on the way; `bot_failed` is checked after the bot's turn and may
only move an existing handover to a more urgent queue.
"""

from __future__ import annotations

from helixdesk.dialogue.effects import HandOver
from helixdesk.dialogue.flows.base import Deciding
from helixdesk.dialogue.flows.protect import protect
from helixdesk.dialogue.triggers import Trigger, TurnHistory, check_bot_failed, check_triggers, more_urgent


def trigger_before(d: Deciding) -> Trigger | None:
    policy = d.config.triggers
    if policy is None:
        return None
    state = d.state
    history = TurnHistory(
        emotions=tuple(state.emotions),
        intents=tuple(state.intents),
        low_confidence=state.low_confidence,
        resolved_last_turn=state.last_resolved,
    )
    return check_triggers(
        d.turn, history, policy=policy, profile=d.ctx.customer.profile, today=d.ctx.now.date()
    )


def trigger_after(d: Deciding) -> None:
    policy = d.config.triggers
    if policy is None:
        return
    found = check_bot_failed(d.state.low_confidence, policy=policy)
    current = d.handover
    if found is not None and (current is None or more_urgent(found.queue, current.queue)):
        hand_over(d, found)


def hand_over(d: Deciding, found: Trigger) -> None:
    """The bot stops what it was doing; only what it said about incidents and open issues stays. A fraud report
    gets the fast lane's protective step first (`helixdesk.dialogue.flows.protect`)."""
    current = d.handover
    intent = d.turn.intent.name if d.turn.intent else None
    d.handover = HandOver(
        queue=found.queue,
        reason=f"{found.reason}: {found.evidence}" if found.evidence else found.reason,
        intent=current.intent if current is not None and current.intent else intent,
        trigger=found.reason,
        evidence=found.evidence,
    )
    d.says = [s for s in d.says if s.kind in ("incident", "issue")]
    d.say(f"handoff.trigger.{found.reason}", kind="handoff")
    if found.reason == "fraud_risk":
        protect(d)
    d.say("handoff.now", kind="handoff", queue=found.queue)
    d.state.task = None
    d.state.stack.clear()
