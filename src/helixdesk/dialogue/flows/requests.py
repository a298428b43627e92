"""A message that is not an answer to an open question: a new request, a follow-up of the last one
("那上个月的呢?", "what about last month?"), or a message the bot does not understand."""

from __future__ import annotations

from helixdesk.dialogue.answers import has_cue, slot_values
from helixdesk.dialogue.flows import howto
from helixdesk.dialogue.flows.base import UNCLEAR, Deciding
from helixdesk.dialogue.flows.tasks import advance, knowledge, say_knowledge
from helixdesk.dialogue.state import Task


def new_request(d: Deciding) -> None:
    turn = d.turn
    intent = turn.intent
    last = d.state.last
    if last is not None and is_followup(d, last):
        task = d.new_task(last.intent, last.slots)
        task.slots.update(slot_values(turn, d.policy(last.intent).slots))
        advance(d, task)
        return
    clear = (
        intent is not None
        and intent.confidence >= d.policies.settings.intent_threshold
        and intent.name in d.policies.intents
    )
    if not clear or intent is None or intent.name == UNCLEAR:
        unclear(d)
        return
    d.state.low_confidence = 0
    policy = d.policy(intent.name)
    task = d.new_task(intent.name, slot_values(turn, policy.slots))
    if policy.action and policy.sensitive and howto.asks_how(d) and howto.answer_then_offer(d, task):
        return
    advance(d, task)


def is_followup(d: Deciding, last: Task) -> bool:
    policy = d.policy(last.intent)
    if not policy.followup:
        return False
    turn = d.turn
    if not slot_values(turn, policy.slots):
        return False
    same = turn.intent is not None and turn.intent.name == last.intent
    unsure = turn.intent is None or turn.intent.confidence < d.policies.settings.intent_threshold
    words = d.policies.words
    cue = has_cue(turn, words.followup_cues) or has_cue(turn, words.correction_cues)
    return same or unsure or cue


def unclear(d: Deciding) -> None:
    turn = d.turn
    reply = knowledge(d)
    if reply.grounded:
        d.state.low_confidence = 0
        say_knowledge(d, reply)
        return
    confident_oos = (
        turn.intent is not None
        and turn.intent.name == UNCLEAR
        and turn.intent.confidence >= d.policies.settings.intent_threshold
    )
    if turn.intent is not None and turn.intent.name != UNCLEAR:
        # A banking question the bot is unsure of and cannot ground: say so, offer a person.
        d.say("knowledge.dont_know", kind="fallback")
        d.offer_agent(turn.intent.name)
        return
    d.state.low_confidence += 1
    d.say("dialogue.out_of_scope" if confident_oos else "dialogue.unclear", kind="fallback")
    if d.state.low_confidence >= d.policies.settings.low_confidence_offer_after:
        d.offer_agent(UNCLEAR)
