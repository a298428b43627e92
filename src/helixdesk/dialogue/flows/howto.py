"""A question about how to do something the bot can do itself: the answer, then an offer to do it.

"What should I do if my card's been lost?" asks for the procedure; "block my card" asks for the
action. For a sensitive intent with an action (the customer's own data or money), a how-to question (`words.howto_cues`, with none of
`words.request_cues` such as 帮我 or "can you") gets the knowledge base's answer first and then
"Shall I do it for you now?" (`offer.do_it`). A yes, or the same request put as a request ("OK,
can you block the card then"), runs the action with every value the customer gave; a no leaves
it. When the knowledge base has no grounded answer, the bot goes straight to the action.
"""

from __future__ import annotations

from helixdesk.dialogue.answers import answer_label, has_cue
from helixdesk.dialogue.flows.base import ACTION_OFFER, Deciding
from helixdesk.dialogue.flows.tasks import advance, fill, is_new_request, knowledge, say_knowledge
from helixdesk.dialogue.state import AFTER, Task


def asks_how(d: Deciding) -> bool:
    words = d.policies.words
    return has_cue(d.turn, words.howto_cues) and not has_cue(d.turn, words.request_cues)


def answer_then_offer(d: Deciding, task: Task) -> bool:
    """The how-to answer and the offer; False when there is no grounded answer to give."""
    reply = knowledge(d, fallback_intent=task.intent)
    if not reply.grounded:
        return False
    say_knowledge(d, reply)
    offer(d, task)
    return True


def offer(d: Deciding, task: Task) -> None:
    d.say("offer.do_it", kind="prompt", topic=task.intent)
    task.awaiting = AFTER
    task.step = [ACTION_OFFER]
    d.state.task = task


def on_offer(d: Deciding, task: Task) -> bool:
    label = answer_label(d.turn, d.policies.words, ["yes", "no"])
    intent = d.turn.intent
    same = (
        intent is not None
        and intent.name == task.intent
        and intent.confidence >= d.policies.settings.intent_threshold
    )
    if label == "yes" or same:
        task.step = []
        task.awaiting = None
        task.reprompts = 0
        fill(d.turn, task, d.policy(task.intent), overwrite=True)
        advance(d, task)
        return True
    if label == "no":
        d.state.task = None
        d.say("dialogue.anything_else", kind="prompt")
        return True
    if is_new_request(d, task) or task.reprompts >= 1:
        d.state.task = None
        return False
    task.reprompts += 1
    d.say("offer.do_it", kind="prompt", topic=task.intent)
    return True
