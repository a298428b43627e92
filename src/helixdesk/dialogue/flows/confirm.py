"""The customer's answer while the bot waits for a yes or no before it changes anything."""

from __future__ import annotations

from helixdesk.dialogue.answers import answer_label
from helixdesk.dialogue.flows.base import Deciding
from helixdesk.dialogue.flows.tasks import advance, fill, is_new_request, reprompt_or_give_up
from helixdesk.dialogue.state import Task


def on_confirm(d: Deciding, task: Task) -> bool:
    policy = d.policy(task.intent)
    if fill(d.turn, task, policy, overwrite=True):
        # A correction ("no, the other card"): confirm again with the new values.
        d.say("dialogue.corrected", kind="prompt")
        task.awaiting = None
        advance(d, task)
        return True
    label = answer_label(d.turn, d.policies.words, ["no", "yes"])
    if label == "yes":
        task.confirmed = True
        task.awaiting = None
        advance(d, task)
        return True
    if label == "no":
        d.say("dialogue.not_changed", kind="prompt")
        d.state.task = None
        return True
    if is_new_request(d, task):
        return False
    return reprompt_or_give_up(d, task)
