"""The customer's answer while the bot waits for a slot's value (an amount, a card, a period)."""

from __future__ import annotations

from helixdesk.dialogue.flows.base import Deciding
from helixdesk.dialogue.flows.tasks import advance, choose, fill, is_new_request, reprompt_or_give_up
from helixdesk.dialogue.state import Task


def on_slot(d: Deciding, task: Task, name: str) -> bool:
    policy = d.policy(task.intent)
    if fill(d.turn, task, policy, overwrite=True) or (task.choices and choose(d.turn, task, name)):
        task.awaiting = None
        advance(d, task)
        return True
    if is_new_request(d, task):
        return False
    return reprompt_or_give_up(d, task)
