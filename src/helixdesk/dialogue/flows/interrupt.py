"""Whether a message wins over the question the bot is waiting on.

A pending question must not swallow the next message when it is something else: "my husband passed
away, I can't keep up with the repayments" is not a "no" because it contains "no". In order:
- a request for a person or a risk (`settings.interrupt_intents`: hardship, fraud, a lost card, a
  complaint) wins over any pending question (a yes/no, a card to pick, a one-time code), unless
  the question itself takes it as an answer ("dispute, or an agent?" takes "agent");
- any other clear new request (`settings.interrupt_threshold`) wins over a pending yes/no, unless
  the message is a short answer ("好的", "no thanks", "yes please go ahead");
- the same request put again in full, when the bot offered a person after failing to settle it, is
  the request asked afresh, not a "yes" to the offer.
The open task is kept: `decide` puts it aside and offers it back once the new request is handled.
"""

from __future__ import annotations

import re

from helixdesk.dialogue.answers import answer_label
from helixdesk.dialogue.flows.after import AFTER_INTENT_LABELS
from helixdesk.dialogue.flows.base import AGENT_OFFER, SMALL_TALK, UNCLEAR, Deciding
from helixdesk.dialogue.flows.tasks import AGENT_OFFER_STEP, current_step
from helixdesk.dialogue.policy import Step
from helixdesk.dialogue.state import Task
from helixdesk.nlu.text import normalise

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9']+")
SHORT_CJK = 6  # characters
SHORT_WORDS = 4


def interrupts(d: Deciding, task: Task) -> bool:
    intent = d.turn.intent
    settings = d.policies.settings
    awaiting = task.awaiting
    if intent is None or awaiting is None:
        return False
    name = intent.name
    if name == UNCLEAR or name not in d.policies.intents:
        return False
    if intent.confidence < settings.interrupt_threshold:
        return False
    if name == task.intent:
        # Asked "shall I connect you with a person?", the customer puts the same request again
        # ("I lost my card, please freeze it" holds "please"): the request, asked afresh, not a yes.
        return task.step == [AGENT_OFFER] and not _short_answer(d)
    if name in _asked_about(d, task):
        return False  # "新卡先不用补" answers "would you like a replacement card?"
    if name in settings.interrupt_intents:
        return not _taken_as_answer(d, task, name)
    if awaiting.kind in ("confirm", "after") and name not in SMALL_TALK:
        return not _short_answer(d)
    return False


def _asked_about(d: Deciding, task: Task) -> set[str]:
    """The intents the pending question is about: those its answers would start."""
    if task.awaiting is None or task.awaiting.kind != "after" or task.intent not in d.policies.intents:
        return set()
    step = current_step(task, d.policy(task.intent))
    if step is None:
        return set()
    return {answer.start for answer in step.answers.values() if answer.start}


def _taken_as_answer(d: Deciding, task: Task, intent: str) -> bool:
    """The awaited follow-up question has an answer for this intent ("agent" for a person)."""
    if task.awaiting is None or task.awaiting.kind != "after":
        return False
    step: Step | None
    if task.step == [AGENT_OFFER]:
        step = AGENT_OFFER_STEP
    elif task.intent in d.policies.intents:
        step = current_step(task, d.policy(task.intent))
    else:
        step = None
    label = AFTER_INTENT_LABELS.get(intent)
    return step is not None and label is not None and label in step.answers


def _short_answer(d: Deciding) -> bool:
    """A yes/no-sized message that gives an answer word."""
    text = d.turn.normalized or normalise(d.turn.text)
    if answer_label(d.turn, d.policies.words, d.policies.words.labels.keys()) is None:
        return False
    return len(_CJK.findall(text)) <= SHORT_CJK and len(_WORD.findall(text)) <= SHORT_WORDS
