"""One decision in progress: its inputs, the state it changes and what it has decided so far.

`decide` runs the flows over a `Deciding`. A flow that needs an effect's result calls `ask(effect)`:
with the result at hand (the executor ran it on an earlier pass) it returns it; otherwise it
stops the pass with `NeedResult`, and `decide` returns the effect for the executor to run.
Every pass starts again from the same inputs, so everything here must be deterministic: new task
ids come from the turn's message id and a counter, never from a random source.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from helixdesk.core.events import Citation
from helixdesk.core.languages import LANGUAGES
from helixdesk.core.turn import Turn
from helixdesk.dialogue.context import TurnContext
from helixdesk.dialogue.effects import Ask, Change, HandOver, Result
from helixdesk.dialogue.policy import IntentPolicy, Policies
from helixdesk.dialogue.state import AFTER, Task
from helixdesk.dialogue.triggers import Triggers
from helixdesk.lifecycle.suitability import SuitabilityPolicy
from helixdesk.nlg.personalise import TipPolicy
from helixdesk.nlg.replies import Say
from helixdesk.nlg.style import StylePolicy
from helixdesk.nlu.text import is_traditional

UNCLEAR = "out_of_scope"
# Never a new request that puts a pending question aside ("the biggest one" is not praise).
SMALL_TALK = frozenset({"greeting", "goodbye", "praise"})
AGENT_OFFER = "__agent_offer__"  # the step path of "shall I connect you with a person?"
ACTION_OFFER = "__action_offer__"  # the step path of "shall I do it for you now?" (`flows.howto`)
_SHORT_ANSWER = re.compile(r"[\W\d_]*|ok|okay|yes|no|y|n")


@dataclass(frozen=True, slots=True)
class DialogueConfig:
    """The pack's dialogue: policies per intent, handover triggers, style rules, tips."""

    policies: Policies
    style: StylePolicy
    tips: TipPolicy
    code_length: int
    triggers: Triggers | None = None
    # Actions that need no customer (exchange rates): an anonymous visitor may run them.
    public_actions: frozenset[str] = frozenset()
    # The suitability gate's limits (the pack's `lifecycle/suitability.yaml`), asked last for every tip.
    suitability: SuitabilityPolicy = field(default_factory=SuitabilityPolicy)


class NeedResult(Exception):
    """The decision cannot go on without the result of `ask`."""

    def __init__(self, ask: Ask) -> None:
        super().__init__(type(ask).__name__)
        self.ask = ask


class Deciding:
    def __init__(
        self, config: DialogueConfig, ctx: TurnContext, turn: Turn, results: Mapping[Ask, Result]
    ) -> None:
        self.config = config
        self.ctx = ctx
        self.turn = turn
        self.results = results
        self.state = copy.deepcopy(ctx.state)
        self.language = reply_language(turn, ctx.language)
        self.says: list[Say] = []
        self.changes: list[Change] = []
        self.handover: HandOver | None = None
        self.verified = ctx.verified
        self.redact = False
        self.actions_ran = 0
        self._ids = 0

    # ---- inputs ---------------------------------------------------------------------------------

    @property
    def policies(self) -> Policies:
        return self.config.policies

    @property
    def customer_ref(self) -> str | None:
        return self.ctx.customer.customer_ref

    def ask(self, effect: Ask) -> Result:
        result = self.results.get(effect)
        if result is None:
            raise NeedResult(effect)
        return result

    def policy(self, intent: str) -> IntentPolicy:
        policy = self.policies.for_intent(intent)
        if policy is None:
            raise KeyError(f"no dialogue policy for intent {intent!r}")
        return policy

    # ---- outputs --------------------------------------------------------------------------------

    def say(self, key: str, kind: str = "text", citations: tuple[Citation, ...] = (), **values: Any) -> None:
        self.says.append(Say(key, values, kind, citations))

    def new_task(self, intent: str, slots: dict[str, Any] | None = None) -> Task:
        self._ids += 1
        digest = hashlib.sha256(f"{self.ctx.message_id}:{self._ids}".encode()).hexdigest()[:12]
        return Task(intent=intent, id=digest, slots=dict(slots or {}))

    def offer_agent(self, intent: str) -> None:
        """Ask whether the customer wants a person; their answer is read as a follow-up."""
        self.say("handoff.offer", kind="prompt")
        offer = self.new_task(intent)
        offer.awaiting = AFTER
        offer.step = [AGENT_OFFER]
        self.state.task = offer

    def hand_over(
        self, intent: str | None, queue: str, reason: str, *, trigger: str = "policy", evidence: str = ""
    ) -> None:
        queue = queue if queue != "bot" else "general"
        self.handover = HandOver(
            queue=queue, reason=reason, intent=intent, trigger=trigger, evidence=evidence
        )
        self.say("handoff.now", kind="handoff", queue=queue)


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
        # Chinese with English words: the script of its Chinese ("我個friend WhatsApp我" is zh-Hant).
        if is_traditional(turn.text):
            return "zh-Hant"
        return conversation_language if conversation_language in ("zh-Hans", "zh-Hant") else "zh-Hans"
    return conversation_language if conversation_language in LANGUAGES else "zh-Hans"


def ranking(turn: Turn, fallback: str | None = None) -> dict[str, float] | str | None:
    """The NLU's intent ranking as the knowledge base's hint (its threshold is calibrated with it)."""
    if turn.intent_ranking:
        return {i.name: i.confidence for i in turn.intent_ranking}
    return fallback
