"""The bot's turn: understand the message, decide with the dialogue manager, word the reply.

`Bot.turn` is pure with respect to the conversation store: it reads the dialogue state it is
given and returns the new state with the replies; the conversation service persists both in one
transaction. Actions and identity checks write their own audit and challenge rows.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helixdesk.dialogue.manager import DialogueManager, Handoff, Outcome, Say, TurnInput
from helixdesk.dialogue.ports import ActionFailed, ActionsPort, Citation, CustomerContext
from helixdesk.dialogue.state import DialogueState, remember_turn
from helixdesk.domain.turn import Turn
from helixdesk.handoff.policy import Triggers
from helixdesk.handoff.triggers import (
    Trigger,
    TurnHistory,
    check_bot_failed,
    check_triggers,
    more_urgent,
)
from helixdesk.nlg.personalise import TipPolicy, pick_tip
from helixdesk.nlg.style import StylePolicy, choose_empathy, choose_style
from helixdesk.nlg.templates import Templates
from helixdesk.nlu.pipeline import NLUPipeline

log = logging.getLogger(__name__)

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
_SHORT_ANSWER = re.compile(r"[\W\d_]*|ok|okay|yes|no|y|n")
_NO_EMPATHY = ("greeting", "goodbye", "praise")


@dataclass(frozen=True, slots=True)
class BotReply:
    text: str
    kind: str = "text"
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class BotResult:
    turn: Turn
    replies: tuple[BotReply, ...]
    reply_language: str
    state: DialogueState = field(default_factory=DialogueState)
    handoff: Handoff | None = None
    outcome: Outcome = field(default_factory=Outcome)
    style: str = "warm"


def reply_language(turn: Turn, conversation_language: str | None) -> str:
    """Reply in the customer's language and script; code-switched Chinese gets Chinese."""
    if turn.language in LANGUAGES:
        if (
            turn.language == "en"
            and conversation_language in ("zh-Hans", "zh-Hant")
            and _SHORT_ANSWER.fullmatch(turn.text.strip().lower())
        ):
            # "ok", "yes", "123456": a short answer keeps the conversation's language.
            return conversation_language
        return turn.language
    if turn.language == "mixed":
        return conversation_language if conversation_language in ("zh-Hans", "zh-Hant") else "zh-Hans"
    return conversation_language if conversation_language in LANGUAGES else "zh-Hans"


class Bot:
    def __init__(
        self,
        *,
        nlu: NLUPipeline,
        manager: DialogueManager,
        templates: Templates,
        style_policy: StylePolicy,
        tips: TipPolicy,
        actions: ActionsPort,
        triggers: Triggers | None = None,
    ) -> None:
        self.triggers = triggers
        self.nlu = nlu
        self.manager = manager
        self.templates = templates
        self.style_policy = style_policy
        self.tips = tips
        self.actions = actions

    def warm_up(self) -> None:
        self.nlu.warm_up()

    def understand(self, text: str, *, now: datetime | None = None) -> Turn:
        return self.nlu.parse(text, reference_time=now)

    def turn(
        self,
        turn: Turn,
        *,
        conversation_id: str,
        conversation_language: str | None,
        customer: CustomerContext,
        state: DialogueState,
        now: datetime,
    ) -> BotResult:
        language = reply_language(turn, conversation_language)
        state.style = state.style.observe(turn.text, self.style_policy)
        inp = TurnInput(
            conversation_id=conversation_id, language=language, turn=turn, now=now, customer=customer
        )
        remember_turn(state, turn)
        trigger = self._trigger_before(inp, state)
        if trigger is not None:
            # A person takes over before the bot starts anything (a code, an action, a question).
            outcome = Outcome()
            self._hand_over(inp, state, outcome, trigger)
        else:
            outcome = self.manager.handle(inp, state)
            self._trigger_after(inp, state, outcome)
        state.last_resolved = bool(outcome.action_results) or any(s.kind == "answer" for s in outcome.says)
        style = choose_style(customer.profile, state.style, self.style_policy, today=now.date())
        says = list(outcome.says)
        self._add_tip(says, turn, customer, state, now)
        replies = self._render(says, turn, language, style, customer)
        return BotResult(
            turn=turn,
            replies=tuple(replies),
            reply_language=language,
            state=state,
            handoff=outcome.handoff,
            outcome=outcome,
            style=style,
        )

    # ---- handing over ------------------------------------------------------------------------------

    def _trigger_before(self, inp: TurnInput, state: DialogueState) -> Trigger | None:
        if self.triggers is None:
            return None
        history = TurnHistory(
            emotions=tuple(state.emotions),
            intents=tuple(state.intents),
            low_confidence=state.low_confidence,
            resolved_last_turn=state.last_resolved,
        )
        return check_triggers(
            inp.turn, history, policy=self.triggers, profile=inp.customer.profile, today=inp.now.date()
        )

    def _trigger_after(self, inp: TurnInput, state: DialogueState, outcome: Outcome) -> None:
        if self.triggers is None:
            return
        found = check_bot_failed(state.low_confidence, policy=self.triggers)
        current = outcome.handoff
        if found is not None and (current is None or more_urgent(found.queue, current.queue)):
            self._hand_over(inp, state, outcome, found)

    def _hand_over(self, inp: TurnInput, state: DialogueState, outcome: Outcome, found: Trigger) -> None:
        """Hand over for a trigger's reason (see handoff.triggers); the bot stops what it was doing."""
        current = outcome.handoff
        intent = inp.turn.intent.name if inp.turn.intent else None
        outcome.handoff = Handoff(
            queue=found.queue,
            reason=f"{found.reason}: {found.evidence}" if found.evidence else found.reason,
            intent=current.intent if current is not None and current.intent else intent,
            trigger=found.reason,
            evidence=found.evidence,
        )
        outcome.says = [s for s in outcome.says if s.kind == "issue"]
        outcome.say(f"handoff.trigger.{found.reason}", kind="handoff")
        outcome.say("handoff.now", kind="handoff", queue=found.queue)
        state.task = None
        state.stack.clear()

    # ---- wording ----------------------------------------------------------------------------------

    def _render(
        self, says: list[Say], turn: Turn, language: str, style: str, customer: CustomerContext
    ) -> list[BotReply]:
        name = _display_name(customer, language)
        replies: list[BotReply] = []
        intent = turn.intent.name if turn.intent else None
        empathy = None if intent in _NO_EMPATHY else choose_empathy(turn, self.style_policy)
        for i, say in enumerate(says):
            key = say.key
            if not self.templates.has(key) and key.startswith(("action_error.", "none.")):
                key = "action_error.generic"
            values = dict(say.values)
            if "topic" in values:
                topic_key = f"topic.{values['topic']}"
                values["topic_label"] = self.templates.render(
                    topic_key if self.templates.has(topic_key) else "topic.generic", language=language
                )
            text = self.templates.render(key, language=language, style=style, name=name, **values)
            if i == 0 and empathy is not None and say.kind not in ("issue",):
                opening, strong = empathy
                key = f"empathy.{opening}.strong" if strong else f"empathy.{opening}"
                text = f"{self.templates.render(key, language=language, style=style, name=name)}{_gap(language)}{text}"
            replies.append(BotReply(text=text, kind=say.kind, citations=say.citations))
        return _merge_short(replies, language)

    def _add_tip(
        self, says: list[Say], turn: Turn, customer: CustomerContext, state: DialogueState, now: datetime
    ) -> None:
        intent = turn.intent.name if turn.intent else None
        rule = pick_tip(self.tips, customer.profile, intent, given=state.tips_given, today=now.date())
        if rule is None or not says or customer.customer_ref is None:
            return
        values: dict[str, Any] = {}
        if rule.action is not None:
            try:
                values["result"] = self.actions.run(
                    rule.action,
                    customer_ref=customer.customer_ref,
                    params=rule.params,
                    conversation_id="",
                    confirmed=False,
                    idempotency_key=None,
                )
            except ActionFailed:
                log.info("tip %s skipped: its action failed", rule.id)
                return
        state.tips_given.append(rule.id)
        says.append(Say(rule.template, values, kind="tip"))


def _display_name(customer: CustomerContext, language: str) -> str:
    profile = customer.profile
    if profile is None:
        return ""
    if language == "en":
        return profile.name_en.split(" ")[-1] if profile.name_en else ""
    return profile.name_zh[:1] if profile.name_zh else ""


def _gap(language: str) -> str:
    return " " if language == "en" else ""


def _merge_short(replies: list[BotReply], language: str) -> list[BotReply]:
    """Join consecutive plain prompts to the reply before them, so the customer gets one message."""
    merged: list[BotReply] = []
    for reply in replies:
        if merged and reply.kind in ("prompt", "confirm") and merged[-1].kind not in ("issue",):
            prev = merged[-1]
            sep = "\n\n" if language == "en" else "\n"
            merged[-1] = BotReply(
                text=f"{prev.text}{sep}{reply.text}",
                kind=prev.kind,
                citations=prev.citations,
            )
        else:
            merged.append(reply)
    return merged
