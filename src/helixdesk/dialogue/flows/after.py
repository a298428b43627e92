"""The customer's answer to a follow-up question ("do you recognise it now?", "shall I connect you?")."""

from __future__ import annotations

from helixdesk.dialogue.answers import answer_label
from helixdesk.dialogue.flows import howto
from helixdesk.dialogue.flows.base import ACTION_OFFER, AGENT_OFFER, Deciding
from helixdesk.dialogue.flows.tasks import AGENT_OFFER_STEP, current_step, do_step, is_new_request
from helixdesk.dialogue.state import Task

# Intents that answer a follow-up question as one of its labels.
AFTER_INTENT_LABELS = {"human_agent": "agent", "dispute_charge": "dispute", "goodbye": "no", "praise": "yes"}


def on_after(d: Deciding, task: Task) -> bool:
    if task.step == [ACTION_OFFER]:
        return howto.on_offer(d, task)
    policy = d.policy(task.intent) if task.intent in d.policies.intents else None
    step = AGENT_OFFER_STEP if task.step == [AGENT_OFFER] else None
    if step is None and policy is not None:
        step = current_step(task, policy)
    if step is None or not step.answers:
        d.state.task = None
        return False
    label = answer_label(d.turn, d.policies.words, list(step.answers), AFTER_INTENT_LABELS)
    if label is None:
        if is_new_request(d, task) or task.reprompts >= 1:
            d.state.last = task if task.result is not None else d.state.last
            d.state.task = None
            return False
        task.reprompts += 1
        d.say(step.ask or "dialogue.yes_or_no", kind="prompt", result=task.result or {}, slots=task.slots)
        return True
    d.state.task = None
    task.reprompts = 0
    do_step(d, task, step.answers[label], [*task.step, label])
    return True
