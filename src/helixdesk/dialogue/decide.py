"""`decide`: from one understood message and the turn's context to what the bot does. It writes nothing.

It interprets the pack's policies (`helixdesk.dialogue.policy`); there is no code per intent.
Per message, in order:
0. A customer affected by an incident (an outage, an app error, a late payroll batch) hears its
   explanation first, once per conversation (`flows.incidents`).
1. The handover triggers (fraud, crisis, escalation, rising emotion, ...): a person takes over before
   the bot starts anything.
2. A returning customer with an open issue from an earlier contact hears about it first.
3. If a task is open (waiting for a code, a slot, a confirmation or a follow-up answer), the
   message is read as the answer; the flow is chosen by what the task awaits. A request for a
   person, a risk, or (for a yes/no) any clear new request wins over it (`flows.interrupt`).
4. A message that is not an answer but a clear new request is a digression: the open task is
   put aside, the new request is handled, and the bot then comes back to the open task.
5. A short follow-up ("那上个月的呢?", "what about last month?") re-runs the last request with
   the new values.
6. Otherwise the intent's policy runs: identity step-up for sensitive data, slot filling with
   re-prompts, confirmation before any change, the action, the knowledge base, or a handover.
7. A tip from the customer's profile may follow the answer (within suitability rules).

The result is a `Decision`: the new state, the `Say` records the NLG words, and the changes to store
with the turn. Where the next step depends on an effect (an action's result, a code check), the
decision comes back unfinished with `pending` set; the executor runs that effect once and calls
`decide` again with every result so far. Each call starts from the same inputs, so the same
decision is reached again up to the point where the new result is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from helixdesk.core.turn import Turn
from helixdesk.dialogue.answers import answer_label
from helixdesk.dialogue.context import TurnContext
from helixdesk.dialogue.effects import ActionDone, Ask, Change, HandOver, RedactMessage, Result, RunAction
from helixdesk.dialogue.flows import (
    after,
    confirm,
    handover,
    images,
    incidents,
    issues,
    pick,
    requests,
    slots,
    tasks,
    verify,
)
from helixdesk.dialogue.flows.base import Deciding, DialogueConfig, NeedResult
from helixdesk.dialogue.flows.interrupt import interrupts
from helixdesk.dialogue.flows.subject import tip_subject
from helixdesk.dialogue.flows.touches import add_touch
from helixdesk.dialogue.state import DialogueState, Task, remember_turn
from helixdesk.lifecycle.suitability import gate
from helixdesk.nlg.personalise import pick_tip
from helixdesk.nlg.replies import Say
from helixdesk.nlg.style import choose_style


@dataclass(frozen=True, slots=True)
class Decision:
    state: DialogueState
    says: tuple[Say, ...]
    language: str  # the reply language
    style: str  # concise, warm, lively or patient
    changes: tuple[Change, ...] = ()
    pending: Ask | None = None  # unfinished: decide needs this effect's result first
    asked: tuple[Ask, ...] = field(default=())  # the effects this decision used, in order

    @property
    def handover(self) -> HandOver | None:
        return next((c for c in self.changes if isinstance(c, HandOver)), None)

    @property
    def redact_message(self) -> bool:
        return any(isinstance(c, RedactMessage) for c in self.changes)


class Decider:
    def __init__(self, config: DialogueConfig) -> None:
        self.config = config

    def decide(self, ctx: TurnContext, turn: Turn, results: Mapping[Ask, Result] | None = None) -> Decision:
        d = Deciding(self.config, ctx, turn, results or {})
        try:
            _decide(d)
        except NeedResult as need:
            return Decision(state=d.state, says=(), language=d.language, style="warm", pending=need.ask)
        changes = list(d.changes)
        if d.handover is not None:
            changes.append(d.handover)
        if d.redact:
            changes.append(RedactMessage())
        style = choose_style(ctx.customer.profile, d.state.style, self.config.style, today=ctx.now.date())
        return Decision(
            state=d.state,
            says=tuple(d.says),
            language=d.language,
            style=style,
            changes=tuple(changes),
            asked=tuple(d.results),
        )


def _decide(d: Deciding) -> None:
    state = d.state
    state.style = state.style.observe(d.turn.text, d.config.style)
    remember_turn(state, d.turn)
    incidents.explain_incidents(d)
    trigger = handover.trigger_before(d)
    if trigger is not None:
        # A person takes over before the bot starts anything (a code, an action, a question).
        handover.hand_over(d, trigger)
    else:
        _handle(d)
        handover.trigger_after(d)
    state.last_resolved = d.actions_ran > 0 or any(s.kind == "answer" for s in d.says)
    _add_tip(d)
    add_touch(d)


def _handle(d: Deciding) -> None:
    state = d.state
    if not state.issues_raised:
        state.issues_raised = True
        issues.raise_open_issues(d)
    if images.on_image(d):
        return
    if state.task is not None:
        if _continue(d, state.task):
            _resume(d)
            return
        if state.task is not None and (state.task.awaiting is None or state.task.awaiting.kind != "after"):
            state.stack.append(state.task)
        elif state.task is not None:
            state.last = state.task
        state.task = None
    requests.new_request(d)
    _resume(d)


def _resume(d: Deciding) -> None:
    """A task put aside comes back once nothing else is pending (also after the code that a
    digression needed was given)."""
    state = d.state
    if state.task is None and state.stack and d.handover is None:
        resumed = state.stack.pop()
        state.task = resumed
        d.say("dialogue.back_to", kind="prompt", topic=resumed.intent)
        tasks.reprompt(d, resumed)


_ANSWERS: dict[str, Callable[[Deciding, Task], bool]] = {
    "code": verify.on_code,
    "confirm": confirm.on_confirm,
    "after": after.on_after,
}


def _continue(d: Deciding, task: Task) -> bool:
    """Read the message as the answer to what the open task awaits. False: it is not an answer."""
    awaiting = task.awaiting
    if answer_label(d.turn, d.policies.words, ["cancel"]) == "cancel" and (
        awaiting is None or awaiting.kind != "after"
    ):
        d.say("dialogue.cancelled", kind="prompt")
        d.state.task = None
        return True
    if awaiting is None or interrupts(d, task):
        return False
    if awaiting.kind == "slot" and awaiting.slot == tasks.PICK:
        return pick.on_pick(d, task)
    if awaiting.kind == "slot":
        return awaiting.slot is not None and slots.on_slot(d, task, awaiting.slot)
    return _ANSWERS[awaiting.kind](d, task)


def _add_tip(d: Deciding) -> None:
    """A personal touch after the answer, at most once per tip and conversation."""
    customer = d.ctx.customer
    intent = d.turn.intent.name if d.turn.intent else None
    subject = tip_subject(d.ctx, d.state, intent)
    rule = pick_tip(
        d.config.tips,
        customer.profile,
        intent,
        given=d.state.tips_given,
        allowed=lambda r: gate(subject, r.product_risk, d.config.suitability).allowed,
    )
    if rule is None or not d.says or customer.customer_ref is None:
        return
    values: dict[str, object] = {}
    if rule.action is not None:
        quoted = d.ask(RunAction.of(rule.action, rule.params, purpose="tip"))
        if not isinstance(quoted, ActionDone):
            return  # the figure the tip quotes is not available: no tip
        values["result"] = quoted.result
    d.state.tips_given.append(rule.id)
    d.says.append(Say(rule.template, dict(values), kind="tip"))
