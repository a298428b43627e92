"""The dialogue manager: from one understood message and the conversation's state to what to say.

It interprets the pack's policies (`helixdesk.dialogue.policy`); there is no code per intent.
Per message, in order:
1. A returning customer with an open issue from an earlier contact hears about it first.
2. If a task is open (waiting for a code, a slot, a confirmation or a follow-up answer), the
   message is read as the answer: cancel, a code, a choice, a correction, yes/no.
3. A message that is not an answer but a clear new request is a digression: the open task is
   put aside, the new request is handled, and the bot then comes back to the open task.
4. A short follow-up ("那上个月的呢?", "what about last month?") re-runs the last request with
   the new values.
5. Otherwise the intent's policy runs: identity step-up for sensitive data, slot filling with
   re-prompts, confirmation before any change, the action, the knowledge base, or a handoff.

The manager returns `Say` records (a template key and values); the NLG layer words them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helixdesk.dialogue.answers import answer_label, has_cue, pick_choice, slot_values
from helixdesk.dialogue.policy import IntentPolicy, Policies, Step
from helixdesk.dialogue.ports import (
    ActionFailed,
    ActionsPort,
    Citation,
    CustomerContext,
    KnowledgePort,
    VerificationFailed,
    VerificationPort,
)
from helixdesk.dialogue.state import DialogueState, Task
from helixdesk.domain.turn import Turn
from helixdesk.memory.service import IssueOp

log = logging.getLogger(__name__)

AFTER_INTENT_LABELS = {"human_agent": "agent", "dispute_charge": "dispute", "goodbye": "no", "praise": "yes"}
UNCLEAR = "out_of_scope"
AGENT_OFFER = "__agent_offer__"  # the step path of "shall I connect you with a person?"


@dataclass
class Say:
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    kind: str = "text"
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Handoff:
    queue: str
    reason: str
    intent: str | None = None
    # Why, as a stable code: customer_request, policy, or a trigger's reason (fraud_risk, ...).
    trigger: str = "policy"
    evidence: str = ""


@dataclass
class Outcome:
    says: list[Say] = field(default_factory=list)
    handoff: Handoff | None = None
    issue_ops: list[IssueOp] = field(default_factory=list)
    redact_message: bool = False
    action_results: list[dict[str, Any]] = field(default_factory=list)

    def say(self, key: str, kind: str = "text", citations: tuple[Citation, ...] = (), **values: Any) -> None:
        self.says.append(Say(key, values, kind, citations))


@dataclass(frozen=True, slots=True)
class TurnInput:
    conversation_id: str
    language: str
    turn: Turn
    now: datetime
    customer: CustomerContext


class DialogueManager:
    def __init__(
        self,
        *,
        policies: Policies,
        knowledge: KnowledgePort,
        actions: ActionsPort,
        verification: VerificationPort,
    ) -> None:
        self.policies = policies
        self.knowledge = knowledge
        self.actions = actions
        self.verification = verification

    # ---- entry point ----------------------------------------------------------------------------

    def handle(self, inp: TurnInput, state: DialogueState) -> Outcome:
        out = Outcome()
        if not state.issues_raised:
            state.issues_raised = True
            self._raise_open_issues(inp, out)
        if state.task is not None:
            if self._continue(inp, state, out):
                return out
            if state.task is not None and state.task.awaiting != "after":
                state.stack.append(state.task)
            elif state.task is not None:
                state.last = state.task
            state.task = None
        self._new_request(inp, state, out)
        if state.task is None and state.stack and out.handoff is None:
            resumed = state.stack.pop()
            state.task = resumed
            out.say("dialogue.back_to", kind="prompt", topic=resumed.intent)
            self._reprompt(inp, resumed, out)
        return out

    # ---- returning customers --------------------------------------------------------------------

    def _raise_open_issues(self, inp: TurnInput, out: Outcome) -> None:
        ref = inp.customer.customer_ref
        for issue in inp.customer.open_issues[:2]:
            out.issue_ops.append(IssueOp("raised", issue_id=issue.id))
            if ref is not None and issue.action and issue.ref:
                try:
                    result = self.actions.run(
                        issue.action,
                        customer_ref=ref,
                        params={"ref": issue.ref},
                        conversation_id=inp.conversation_id,
                        confirmed=False,
                        idempotency_key=None,
                    )
                except ActionFailed:
                    log.info("could not re-check issue %s", issue.id)
                else:
                    policy = self.policies.for_intent(issue.intent)
                    still_open = (
                        policy is not None
                        and policy.issue is not None
                        and str(result.get(policy.issue.when_field)) in policy.issue.open_values
                    )
                    if not still_open:
                        out.issue_ops.append(IssueOp("resolve", issue_id=issue.id))
                        out.say(
                            "issue.settled", kind="issue", topic=issue.topic, result=result, facts=issue.facts
                        )
                    else:
                        out.say(
                            "issue.still_open",
                            kind="issue",
                            topic=issue.topic,
                            result=result,
                            facts=issue.facts,
                        )
                    continue
            out.say("issue.reminder", kind="issue", topic=issue.topic, facts=issue.facts)

    # ---- an open task ---------------------------------------------------------------------------

    def _continue(self, inp: TurnInput, state: DialogueState, out: Outcome) -> bool:
        """Read the message as an answer to the open task. False: it is not an answer."""
        task = state.task
        assert task is not None
        turn = inp.turn
        words = self.policies.words
        if answer_label(turn, words, ["cancel"]) == "cancel" and task.awaiting != "after":
            out.say("dialogue.cancelled", kind="prompt")
            state.task = None
            return True
        if task.awaiting == "code":
            return self._on_code(inp, state, out)
        policy = self._policy(task.intent)
        if task.awaiting and task.awaiting.startswith("slot:"):
            name = task.awaiting.removeprefix("slot:")
            if self._fill(turn, task, policy, overwrite=True) or (
                task.choices and self._choose(turn, task, name)
            ):
                task.awaiting = None
                self._advance(inp, state, task, out)
                return True
            if self._is_new_request(turn, task):
                return False
            return self._reprompt_or_give_up(inp, state, task, out)
        if task.awaiting == "confirm":
            if self._fill(turn, task, policy, overwrite=True):
                out.say("dialogue.corrected", kind="prompt")
                task.awaiting = None
                self._advance(inp, state, task, out)
                return True
            label = answer_label(turn, words, ["no", "yes"])
            if label == "yes":
                task.confirmed = True
                task.awaiting = None
                self._advance(inp, state, task, out)
                return True
            if label == "no":
                out.say("dialogue.not_changed", kind="prompt")
                state.task = None
                return True
            if self._is_new_request(turn, task):
                return False
            return self._reprompt_or_give_up(inp, state, task, out)
        if task.awaiting == "after":
            return self._on_after(inp, state, task, out)
        return False

    def _is_new_request(self, turn: Turn, task: Task) -> bool:
        intent = turn.intent
        return (
            intent is not None
            and intent.name not in (UNCLEAR, task.intent)
            and intent.confidence >= self.policies.settings.intent_threshold
            and intent.name in self.policies.intents
        )

    def _reprompt_or_give_up(self, inp: TurnInput, state: DialogueState, task: Task, out: Outcome) -> bool:
        task.reprompts += 1
        if task.reprompts > self.policies.settings.max_reprompts:
            out.say("dialogue.give_up", kind="prompt")
            self._offer_agent(state, task.intent, out)
            return True
        self._reprompt(inp, task, out)
        return True

    def _reprompt(self, inp: TurnInput, task: Task, out: Outcome) -> None:
        policy = self._policy(task.intent)
        if task.awaiting == "code":
            out.say("verify.enter_code", kind="verification")
        elif task.awaiting == "confirm" and policy.confirm:
            out.say(policy.confirm, kind="confirm", slots=task.slots)
        elif task.awaiting and task.awaiting.startswith("slot:"):
            self._ask_slot(task, task.awaiting.removeprefix("slot:"), policy, out)
        elif task.awaiting == "after":
            step = self._current_step(task, policy)
            if step is not None and step.ask:
                out.say(step.ask, kind="prompt", result=task.result or {}, slots=task.slots)

    # ---- verification ---------------------------------------------------------------------------

    def _on_code(self, inp: TurnInput, state: DialogueState, out: Outcome) -> bool:
        task = state.task
        assert task is not None
        code = self.verification.find_code(inp.turn.text)
        if code is None:
            if answer_label(inp.turn, self.policies.words, ["resend"]) == "resend":
                self._send_code(inp, state, task, out)
                return True
            if self._is_new_request(inp.turn, task):
                return False
            return self._reprompt_or_give_up(inp, state, task, out)
        out.redact_message = True
        check = self.verification.check_code(conversation_id=inp.conversation_id, code=code, now=inp.now)
        if check.status == "verified":
            out.say("verify.ok", kind="verification")
            task.awaiting = None
            self._advance(inp, state, task, out)
        elif check.status == "wrong_code" and check.attempts_left > 0:
            out.say("verify.wrong", kind="verification", attempts_left=check.attempts_left)
        elif check.status == "locked" or (check.locked_until is not None):
            out.say("verify.locked", kind="verification", locked_until=check.locked_until)
            self._offer_agent(state, task.intent, out)
        else:
            out.say("verify.expired", kind="verification")
            self._send_code(inp, state, task, out)
        return True

    def _send_code(self, inp: TurnInput, state: DialogueState, task: Task, out: Outcome) -> None:
        ref = inp.customer.customer_ref
        assert ref is not None
        try:
            sent = self.verification.send_code(
                conversation_id=inp.conversation_id, customer_ref=ref, language=inp.language, now=inp.now
            )
        except VerificationFailed as e:
            if e.code == "identity_locked":
                out.say("verify.locked", kind="verification", locked_until=e.locked_until)
                self._offer_agent(state, task.intent, out)
            else:
                out.say("verify.wait", kind="verification")
                task.awaiting = "code"
                state.task = task
            return
        out.say(
            "verify.code_sent", kind="verification", destination=sent.destination, minutes=sent.valid_minutes
        )
        task.awaiting = "code"
        state.task = task

    # ---- new requests ---------------------------------------------------------------------------

    def _new_request(self, inp: TurnInput, state: DialogueState, out: Outcome) -> None:
        turn = inp.turn
        intent = turn.intent
        threshold = self.policies.settings.intent_threshold
        last = state.last
        if last is not None and self._is_followup(turn, last):
            task = Task(intent=last.intent, slots=dict(last.slots))
            task.slots.update(slot_values(turn, self._policy(last.intent).slots))
            self._advance(inp, state, task, out)
            return
        clear = intent is not None and intent.confidence >= threshold and intent.name in self.policies.intents
        if not clear or intent is None or intent.name == UNCLEAR:
            self._unclear(inp, state, out)
            return
        state.low_confidence = 0
        policy = self._policy(intent.name)
        task = Task(intent=intent.name, slots=slot_values(turn, policy.slots))
        self._advance(inp, state, task, out)

    def _is_followup(self, turn: Turn, last: Task) -> bool:
        policy = self._policy(last.intent)
        if not policy.followup:
            return False
        found = slot_values(turn, policy.slots)
        if not found:
            return False
        same = turn.intent is not None and turn.intent.name == last.intent
        unsure = turn.intent is None or turn.intent.confidence < self.policies.settings.intent_threshold
        cue = has_cue(turn, self.policies.words.followup_cues) or has_cue(
            turn, self.policies.words.correction_cues
        )
        return same or unsure or cue

    def _unclear(self, inp: TurnInput, state: DialogueState, out: Outcome) -> None:
        turn = inp.turn
        reply = self.knowledge.answer(turn.text, language=inp.language, intent=_ranking(turn))
        if reply.grounded:
            state.low_confidence = 0
            self._say_knowledge(reply, out)
            return
        confident_oos = (
            turn.intent is not None
            and turn.intent.name == UNCLEAR
            and turn.intent.confidence >= self.policies.settings.intent_threshold
        )
        if turn.intent is not None and turn.intent.name != UNCLEAR:
            # A banking question the bot is unsure of and cannot ground: say so, offer a person.
            out.say("knowledge.dont_know", kind="fallback")
            self._offer_agent(state, turn.intent.name, out)
            return
        state.low_confidence += 1
        out.say("dialogue.out_of_scope" if confident_oos else "dialogue.unclear", kind="fallback")
        if state.low_confidence >= self.policies.settings.low_confidence_offer_after:
            self._offer_agent(state, UNCLEAR, out)

    def _offer_agent(self, state: DialogueState, intent: str, out: Outcome) -> None:
        out.say("handoff.offer", kind="prompt")
        state.task = Task(intent=intent, awaiting="after", step=[AGENT_OFFER])

    # ---- running a task -------------------------------------------------------------------------

    def _advance(self, inp: TurnInput, state: DialogueState, task: Task, out: Outcome) -> None:
        """Take the task as far as it can go this turn: verify, fill, confirm, run, follow up."""
        policy = self._policy(task.intent)
        state.task = None
        if policy.handoff == "now":
            if policy.reply:
                out.say(policy.reply, kind="handoff")
            self._handoff(
                inp,
                task.intent,
                policy.route,
                f"{task.intent}: the customer needs a person",
                out,
                trigger="customer_request" if task.intent == "human_agent" else "policy",
            )
            return
        if policy.action is None:
            self._answer_without_action(inp, state, task, policy, out)
            return
        ref = inp.customer.customer_ref
        if policy.sensitive and not task.confirmed and task.awaiting != "verified":
            verified = ref is not None and self.verification.is_verified(
                conversation_id=inp.conversation_id, customer_ref=ref, now=inp.now
            )
            if not verified:
                self._general_answer(inp, task, out)
                if ref is None:
                    out.say("verify.login_needed", kind="verification")
                    state.last = task
                    return
                self._send_code(inp, state, task, out)
                return
        assert ref is not None
        for name, slot in policy.slots.items():
            if name in task.slots:
                continue
            if slot.choose_from is not None:
                options = self.actions.choices(slot.choose_from, customer_ref=ref)
                if len(options) == 1:
                    task.slots[name] = options[0]["value"]
                    continue
                if not options:
                    out.say(f"none.{slot.choose_from}", kind="action")
                    return
                if slot.required or len(options) > 1:
                    task.choices = options
                    task.awaiting = f"slot:{name}"
                    state.task = task
                    self._ask_slot(task, name, policy, out)
                    return
            elif slot.required:
                task.awaiting = f"slot:{name}"
                state.task = task
                self._ask_slot(task, name, policy, out)
                return
        if policy.require_one_of and not any(task.slots.get(n) is not None for n in policy.require_one_of):
            task.awaiting = f"slot:{policy.require_one_of[0]}"
            state.task = task
            out.say(policy.require_one_prompt or "dialogue.need_more", kind="prompt")
            return
        if policy.confirm and not task.confirmed:
            task.awaiting = "confirm"
            state.task = task
            out.say(policy.confirm, kind="confirm", slots=task.slots, choice=self._chosen(task))
            return
        self._run(inp, state, task, policy, out)

    def _run(
        self, inp: TurnInput, state: DialogueState, task: Task, policy: IntentPolicy, out: Outcome
    ) -> None:
        ref = inp.customer.customer_ref
        assert ref is not None and policy.action is not None
        params: dict[str, Any] = dict(policy.params)
        params.update({n: s.default for n, s in policy.slots.items() if s.default is not None})
        params.update(task.slots)
        try:
            result = self.actions.run(
                policy.action,
                customer_ref=ref,
                params=params,
                conversation_id=inp.conversation_id,
                confirmed=task.confirmed,
                idempotency_key=f"{inp.conversation_id}:{task.id}" if policy.confirm else None,
            )
        except ActionFailed as e:
            out.say(f"action_error.{e.code}", kind="action", details=e.details, slots=task.slots)
            state.last = task
            self._offer_agent(state, task.intent, out)
            return
        task.result = result
        out.action_results.append({"action": policy.action, "result": result})
        out.say(policy.result or "dialogue.done", kind="action", result=result, slots=task.slots)
        self._track_issue(inp, task, policy, result, out)
        task.awaiting = None
        state.last = task
        after = policy.after
        if after is not None and all(str(result.get(k)) in v for k, v in policy.after_when.items()):
            self._do_step(inp, state, task, after, [], out)

    def _track_issue(
        self, inp: TurnInput, task: Task, policy: IntentPolicy, result: Mapping[str, Any], out: Outcome
    ) -> None:
        rule = policy.issue
        if rule is None:
            return
        ref = result.get(rule.ref_field)
        facts = {k: v for k, v in result.items() if not isinstance(v, (list, dict))}
        if str(result.get(rule.when_field)) in rule.open_values:
            out.issue_ops.append(
                IssueOp(
                    "open",
                    topic=rule.topic,
                    intent=task.intent,
                    action=policy.action if rule.recheck else None,
                    ref=None if ref is None else str(ref),
                    facts=facts,
                )
            )
        elif ref is not None:
            out.issue_ops.append(IssueOp("resolve", topic=rule.topic, ref=str(ref)))

    # ---- follow-up questions after an action ------------------------------------------------------

    def _current_step(self, task: Task, policy: IntentPolicy) -> Step | None:
        if task.step == [AGENT_OFFER]:
            return _AGENT_OFFER
        step = policy.after
        for label in task.step:
            if step is None:
                return None
            step = step.answers.get(label)
        return step

    def _on_after(self, inp: TurnInput, state: DialogueState, task: Task, out: Outcome) -> bool:
        policy = self._policy(task.intent) if task.intent in self.policies.intents else None
        step = _AGENT_OFFER if task.step == [AGENT_OFFER] else None
        if step is None and policy is not None:
            step = self._current_step(task, policy)
        if step is None or not step.answers:
            state.task = None
            return False
        label = answer_label(inp.turn, self.policies.words, list(step.answers), AFTER_INTENT_LABELS)
        if label is None:
            if self._is_new_request(inp.turn, task) or task.reprompts >= 1:
                state.last = task if task.result is not None else state.last
                state.task = None
                return False
            task.reprompts += 1
            out.say(
                step.ask or "dialogue.yes_or_no", kind="prompt", result=task.result or {}, slots=task.slots
            )
            return True
        state.task = None
        task.reprompts = 0
        self._do_step(inp, state, task, step.answers[label], [*task.step, label], out)
        return True

    def _do_step(
        self, inp: TurnInput, state: DialogueState, task: Task, step: Step, path: list[str], out: Outcome
    ) -> None:
        if step.reply:
            out.say(step.reply, kind="text", result=task.result or {}, slots=task.slots)
        if step.resolve and task.result is not None:
            rule = self._policy(task.intent).issue if task.intent in self.policies.intents else None
            ref = task.result.get(rule.ref_field) if rule else None
            if rule is not None and ref is not None:
                out.issue_ops.append(IssueOp("resolve", topic=rule.topic, ref=str(ref)))
        if step.handoff:
            queue = self._policy(task.intent).route if step.handoff == "route" else step.handoff
            if queue == "bot":
                queue = "general"
            facts = {k: v for k, v in (task.result or {}).items() if not isinstance(v, (list, dict))}
            out.issue_ops.append(IssueOp("open", topic=task.intent, intent=task.intent, facts=facts))
            self._handoff(
                inp,
                task.intent,
                queue,
                f"{task.intent}: {path[-1] if path else 'handoff'}",
                out,
                trigger="customer_request" if task.step == [AGENT_OFFER] else "policy",
            )
            return
        if step.start:
            carried = {slot: _lookup(task, source) for slot, source in step.carry.items()}
            new = Task(intent=step.start, slots={k: v for k, v in carried.items() if v is not None})
            self._advance(inp, state, new, out)
            return
        if step.ask:
            task.awaiting = "after"
            task.step = path
            state.task = task
            out.say(step.ask, kind="prompt", result=task.result or {}, slots=task.slots)

    # ---- answers without an action ----------------------------------------------------------------

    def _answer_without_action(
        self, inp: TurnInput, state: DialogueState, task: Task, policy: IntentPolicy, out: Outcome
    ) -> None:
        if policy.reply:
            out.say(policy.reply, kind="text")
        if policy.answer == "knowledge":
            reply = self.knowledge.answer(
                inp.turn.text, language=inp.language, intent=_ranking(inp.turn, task.intent)
            )
            if reply.grounded:
                self._say_knowledge(reply, out)
            else:
                out.say("knowledge.dont_know", kind="fallback")
                if policy.handoff is None:
                    self._offer_agent(state, task.intent, out)
                    return
        state.last = task
        if policy.handoff == "offer":
            out.say("handoff.offer_route", kind="prompt", queue=policy.route)
            state.task = Task(intent=task.intent, awaiting="after", step=[AGENT_OFFER])

    def _general_answer(self, inp: TurnInput, task: Task, out: Outcome) -> None:
        reply = self.knowledge.answer(
            inp.turn.text, language=inp.language, intent=_ranking(inp.turn, task.intent)
        )
        if reply.grounded:
            self._say_knowledge(reply, out)

    def _say_knowledge(self, reply: Any, out: Outcome) -> None:
        out.say(
            "knowledge.answer",
            kind="answer",
            citations=reply.citations,
            text=reply.text,
            explanations=list(reply.explanations),
        )

    # ---- helpers ----------------------------------------------------------------------------------

    def _handoff(
        self, inp: TurnInput, intent: str, queue: str, reason: str, out: Outcome, *, trigger: str = "policy"
    ) -> None:
        out.handoff = Handoff(
            queue=queue if queue != "bot" else "general", reason=reason, intent=intent, trigger=trigger
        )
        out.say("handoff.now", kind="handoff", queue=out.handoff.queue)

    def _policy(self, intent: str) -> IntentPolicy:
        policy = self.policies.for_intent(intent)
        if policy is None:
            raise KeyError(f"no dialogue policy for intent {intent!r}")
        return policy

    def _fill(self, turn: Turn, task: Task, policy: IntentPolicy, *, overwrite: bool) -> bool:
        found = slot_values(turn, policy.slots)
        changed = False
        for name, value in found.items():
            if task.slots.get(name) != value and (overwrite or name not in task.slots):
                task.slots[name] = value
                changed = True
        return changed

    def _choose(self, turn: Turn, task: Task, name: str) -> bool:
        choice = pick_choice(turn, task.choices)
        if choice is None:
            return False
        task.slots[name] = choice["value"]
        return True

    def _chosen(self, task: Task) -> dict[str, Any] | None:
        values = set(map(str, task.slots.values()))
        for choice in task.choices:
            if str(choice.get("value")) in values:
                return choice
        return None

    def _ask_slot(self, task: Task, name: str, policy: IntentPolicy, out: Outcome) -> None:
        slot = policy.slots[name]
        out.say(slot.prompt or f"ask.{name}", kind="prompt", choices=task.choices, slots=task.slots)


_AGENT_OFFER = Step(
    ask="handoff.offer",
    answers={
        "yes": Step(handoff="route"),
        "agent": Step(handoff="route"),
        "no": Step(reply="dialogue.anything_else"),
    },
)


def _lookup(task: Task, source: str) -> Any:
    """`result.match.ref` or `slots.amount` from a finished task."""
    root: Any = {"result": task.result or {}, "slots": task.slots}
    for part in source.split("."):
        if not isinstance(root, Mapping):
            return None
        root = root.get(part)
    return root


def _ranking(turn: Turn, fallback: str | None = None) -> dict[str, float] | str | None:
    """The NLU's intent ranking as the knowledge base's hint (its threshold is calibrated with it)."""
    if turn.intent_ranking:
        return {i.name: i.confidence for i in turn.intent_ranking}
    return fallback
