"""The fraud fast lane's protective step: the card a fraud report is about is frozen at once.

A fraud or scam report goes to the fraud queue on the customer's first message
(`helixdesk.dialogue.triggers`). While a specialist is on the way, the one step that protects the
customer straight away is freezing the card. When the bank's policy allows it
(`triggers.fast_lane.protective_freeze`, on by default) it needs no one-time code: the channel
already knows the customer (light verification), a freeze can be undone, and a scam victim may just
have read their code out to the fraudster. The card is frozen only when the report is about a card
(a card fraud or lost-card intent, or freeze words) and the card is clear: the one the customer
named, or their only active card, or the only one of the kind they named ("my credit card").
Otherwise the specialist freezes the right card with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helixdesk.dialogue.answers import has_cue
from helixdesk.dialogue.effects import ActionDone, Choices, ListChoices, RunAction
from helixdesk.dialogue.flows.base import Deciding
from helixdesk.nlu.text import normalise, to_simplified

FREEZE_ACTION = "freeze_card"


def protective_freeze_allowed(d: Deciding) -> bool:
    triggers = d.config.triggers
    return triggers is not None and triggers.fast_lane.protective_freeze


def protect(d: Deciding) -> None:
    """Freeze the card the customer's fraud report is about, where policy and the facts allow."""
    triggers = d.config.triggers
    if triggers is None or not triggers.fast_lane.protective_freeze:
        return
    rule = triggers.fast_lane
    intent = d.turn.intent.name if d.turn.intent else None
    if intent not in rule.freeze_intents and not has_cue(d.turn, rule.freeze_cues):
        return
    if d.customer_ref is None:
        d.say("protect.how_to_freeze", kind="handoff")
        return
    listed = d.ask(ListChoices("cards"))
    assert isinstance(listed, Choices)
    card = which_card(d, listed.options)
    if card is None:
        if listed.options:
            d.say("protect.specialist_freezes", kind="handoff", cards=len(listed.options))
        return
    outcome = d.ask(
        RunAction.of(
            FREEZE_ACTION,
            {"card_last4": card["value"], "reason": "fraud"},
            confirmed=True,
            idempotency_key=f"{d.ctx.conversation_id}:protect:{card['value']}",
        )
    )
    if isinstance(outcome, ActionDone):
        d.actions_ran += 1
        d.say("protect.frozen", kind="action", result=outcome.result)
    else:
        d.say("protect.specialist_freezes", kind="handoff", cards=len(listed.options))


def which_card(d: Deciding, options: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The active card the report is about: named by its last four digits, the only one of the
    kind named, or the customer's only card. None when it is not clear."""
    if not options:
        return None
    tails = {str(e.value) for e in d.turn.entities if e.type == "card_tail"}
    named = [c for c in options if c.get("tail") in tails]
    if len(named) == 1:
        return named[0]
    text = to_simplified(d.turn.normalized or normalise(d.turn.text))
    by_kind = [
        c for c in options if any(to_simplified(str(k).lower()) in text for k in c.get("keywords", ()))
    ]
    if len(by_kind) == 1:
        return by_kind[0]
    if len(options) == 1:
        return options[0]
    return None
