"""The customer's answer while the bot waits for a one-time code."""

from __future__ import annotations

from helixdesk.dialogue.answers import answer_label
from helixdesk.dialogue.effects import CheckCode, CodeChecked
from helixdesk.dialogue.flows.base import Deciding
from helixdesk.dialogue.flows.tasks import advance, is_new_request, reprompt_or_give_up, send_code
from helixdesk.dialogue.state import Task
from helixdesk.identity.codes import looks_like_code


def on_code(d: Deciding, task: Task) -> bool:
    code = looks_like_code(d.turn.text, d.config.code_length)
    if code is None:
        if answer_label(d.turn, d.policies.words, ["resend"]) == "resend":
            send_code(d, task)
            return True
        if is_new_request(d, task):
            return False
        return reprompt_or_give_up(d, task)
    d.redact = True
    check = d.ask(CheckCode(code))
    assert isinstance(check, CodeChecked)
    if check.status == "verified":
        d.verified = True
        d.say("verify.ok", kind="verification")
        task.awaiting = None
        advance(d, task)
    elif check.status == "wrong_code" and check.attempts_left > 0:
        d.say("verify.wrong", kind="verification", attempts_left=check.attempts_left)
    elif check.status == "locked" or check.locked_until is not None:
        d.say("verify.locked", kind="verification", locked_until=check.locked_until)
        d.offer_agent(task.intent)
    else:
        d.say("verify.expired", kind="verification")
        send_code(d, task)
    return True
