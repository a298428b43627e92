"""The bot's one lifecycle touch per conversation, where it is natural.

After the bot has answered something or done what was asked (`DialogueState.last_resolved`), with
nothing else pending (no task, no hand-over, no tip or incident notice in this reply) and the
customer not upset, the bot looks once per conversation (`DialogueState.touch_checked`) for the
bank's strategies for the bot (`where: bot`, trigger `conversation`, or `anniversary` in the
customer's anniversary week): it asks the executor for the
customer's lifecycle snapshot and the active strategies (`ReadLifecycle`), marks a complaint or a
fraud report as `tip_subject` does for tips, and `lifecycle.recommend.bot_touch` gives the first
recommendation for the bot, the suitability gate having said last. It is added after the answer
in the reply language, with a `LifecycleTouched` change stored with the turn; a customer in the strategy's holdout group gets nothing, and the
holdout is stored instead. Nothing else is tried in that conversation.
"""

from __future__ import annotations

from dataclasses import replace

from helixdesk.dialogue.effects import LifecycleTouched, ReadLifecycle
from helixdesk.dialogue.flows.base import Deciding
from helixdesk.dialogue.flows.subject import tip_subject
from helixdesk.lifecycle.recommend import bot_touch
from helixdesk.lifecycle.strategies import in_holdout
from helixdesk.lifecycle.touches import TouchRead

# A customer feeling these is not offered anything.
UPSET = frozenset({"anger", "sadness", "fear", "disgust"})
NOT_WITH = frozenset({"tip", "incident", "handoff", "prompt"})


def natural(d: Deciding) -> bool:
    """Whether this reply is a natural place for the touch."""
    emotion = d.turn.emotion
    return (
        d.customer_ref is not None
        and not d.state.touch_checked
        and d.state.last_resolved
        and d.state.task is None
        and d.handover is None
        and bool(d.says)
        and not any(s.kind in NOT_WITH for s in d.says)
        and not (emotion is not None and emotion.label in UPSET)
    )


def add_touch(d: Deciding) -> None:
    if not natural(d):
        return
    d.state.touch_checked = True
    read = d.ask(ReadLifecycle())
    if not isinstance(read, TouchRead) or read.snapshot is None or d.customer_ref is None:
        return
    intent = d.turn.intent.name if d.turn.intent else None
    subject = tip_subject(d.ctx, d.state, intent)
    snap = replace(read.snapshot, open_complaint=subject.open_complaint, fraud_report=subject.fraud_report)
    # The conversation has had none (`touch_checked` was false), so nothing is `given` yet.
    first = bot_touch(snap, read.strategies, d.config.suitability, given=(), trigger=read.trigger)
    if first is None:
        return
    strategy = next(s for s in read.strategies if s.id == first.strategy_id)
    held_out = in_holdout(strategy, d.customer_ref)
    d.changes.append(
        LifecycleTouched(
            strategy_id=first.strategy_id,
            version=read.versions.get(first.strategy_id, 1),
            kind=first.kind,
            arm="holdout" if held_out else "touched",
            value=None if first.value is None else str(first.value),
            trigger=read.trigger,
        )
    )
    if not held_out:
        d.say("lifecycle.touch", kind="touch", text=first.texts[d.language], strategy=first.strategy_id)
