"""Taking a task as far as it can go this turn: verify, fill slots, confirm, run, follow up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from helixdesk.core.turn import Turn
from helixdesk.dialogue.answers import pick_choice, slot_values
from helixdesk.dialogue.effects import (
    ActionDone,
    ActionRefused,
    AskKnowledge,
    Choices,
    CodeNotSent,
    CodeSent,
    KnowledgeReply,
    ListChoices,
    OpenIssue,
    ResolveIssue,
    RunAction,
    SendCode,
)
from helixdesk.dialogue.flows.base import ACTION_OFFER, AGENT_OFFER, SMALL_TALK, UNCLEAR, Deciding, ranking
from helixdesk.dialogue.flows.protect import protect, protective_freeze_allowed
from helixdesk.dialogue.policy import IntentPolicy, Step
from helixdesk.dialogue.state import AFTER, CODE, CONFIRM, Task, slot

PICK = "__pick__"  # the slot a task awaits while the customer picks one of the result's items

# "Shall I connect you with a person?" as a follow-up step of any task.
AGENT_OFFER_STEP = Step(
    ask="handoff.offer",
    answers={
        "yes": Step(handoff="route"),
        "agent": Step(handoff="route"),
        "no": Step(reply="dialogue.anything_else"),
    },
)


def advance(d: Deciding, task: Task) -> None:
    """Take the task as far as it can go this turn: verify, fill, confirm, run, follow up."""
    policy = d.policy(task.intent)
    d.state.task = None
    if policy.handoff == "now":
        if policy.reply:
            d.say(policy.reply, kind="handoff")
        if d.config.triggers is not None and policy.route == d.config.triggers.fraud_queue:
            protect(d)
        d.hand_over(
            task.intent,
            policy.route,
            f"{task.intent}: the customer needs a person",
            trigger="customer_request" if task.intent == "human_agent" else "policy",
        )
        return
    if policy.action is None:
        answer_without_action(d, task, policy)
        return
    ref = d.customer_ref
    # A protective step (freezing a card) needs no one-time code where the bank allows it.
    light = policy.protective and ref is not None and protective_freeze_allowed(d)
    if policy.sensitive and not task.confirmed and not (ref is not None and d.verified) and not light:
        if ref is None:
            # Nobody signed in: the general answer, and how to sign in.
            general_answer(d, task)
            d.say(login_needed(d), kind="verification")
            d.state.last = task
            return
        # The customer asked for their own data or an action: the code, not a how-to first.
        send_code(d, task)
        return
    if ref is None and policy.action not in d.config.public_actions:
        # The customer's own data, and nobody signed in: the general answer, and how to sign in.
        general_answer(d, task)
        d.say(login_needed(d), kind="verification")
        d.state.last = task
        return
    for name, slot_policy in policy.slots.items():
        if name in task.slots:
            continue
        if slot_policy.choose_from is not None:
            listed = d.ask(ListChoices(slot_policy.choose_from))
            assert isinstance(listed, Choices)
            options = list(listed.options)
            if len(options) == 1:
                task.slots[name] = options[0]["value"]
                continue
            if not options:
                d.say(f"none.{slot_policy.choose_from}", kind="action")
                return
            if slot_policy.required or len(options) > 1:
                task.choices = options
                task.awaiting = slot(name)
                d.state.task = task
                ask_slot(d, task, name, policy)
                return
        elif slot_policy.required:
            task.awaiting = slot(name)
            d.state.task = task
            ask_slot(d, task, name, policy)
            return
    if policy.require_one_of and not any(task.slots.get(n) is not None for n in policy.require_one_of):
        task.awaiting = slot(policy.require_one_of[0])
        d.state.task = task
        d.say(slot_prompt(policy, policy.require_one_of[0]), kind="prompt")
        return
    if policy.confirm and not task.confirmed:
        task.awaiting = CONFIRM
        d.state.task = task
        d.say(policy.confirm, kind="confirm", slots=task.slots, choice=chosen(task))
        return
    run(d, task, policy)


def run(d: Deciding, task: Task, policy: IntentPolicy) -> None:
    assert policy.action is not None
    params: dict[str, Any] = dict(policy.params)
    params.update({n: s.default for n, s in policy.slots.items() if s.default is not None})
    params.update(task.slots)
    outcome = d.ask(
        RunAction.of(
            policy.action,
            params,
            confirmed=task.confirmed,
            idempotency_key=f"{d.ctx.conversation_id}:{task.id}" if policy.confirm else None,
        )
    )
    if isinstance(outcome, ActionRefused):
        d.say(f"action_error.{outcome.code}", kind="action", details=outcome.details, slots=task.slots)
        d.state.last = task
        d.offer_agent(task.intent)
        return
    assert isinstance(outcome, ActionDone)
    result = outcome.result
    task.result = result
    d.actions_ran += 1
    d.say(policy.result or "dialogue.done", kind="action", result=result, slots=task.slots)
    track_issue(d, task, policy, result)
    task.awaiting = None
    d.state.last = task
    if offer_pick(d, task, policy):
        return  # several matches: the customer picks one first (`flows.pick`)
    after = policy.after
    if after is not None and all(str(result.get(k)) in v for k, v in policy.after_when.items()):
        do_step(d, task, after, [])


def offer_pick(d: Deciding, task: Task, policy: IntentPolicy) -> bool:
    """Several items in the result (`pick_from`): wait for the customer's pick. False: none to pick."""
    field = policy.pick_from
    items = (task.result or {}).get(field) if field else None
    if not isinstance(items, list) or len(items) < 2:
        return False
    task.choices = [_pick_choice(i, item) for i, item in enumerate(items)]
    task.awaiting = slot(PICK)
    d.state.task = task
    return True


def _pick_choice(index: int, item: Any) -> dict[str, Any]:
    """A matching transaction as a choice: by position, card tail, merchant, amount and time."""
    t = item.get("transaction", {}) if isinstance(item, Mapping) else {}
    merchant = str(t.get("merchant", ""))
    return {
        "value": str(index),
        "tail": t.get("card_last4"),
        "merchant": merchant,
        "amount": str(t.get("amount", "")).lstrip("-"),
        "time": str(t.get("occurred_at", "")),
        "keywords": [w for w in re.split(r"[\s/]+", merchant) if len(w) >= 2],
    }


def track_issue(d: Deciding, task: Task, policy: IntentPolicy, result: Mapping[str, Any]) -> None:
    rule = policy.issue
    if rule is None:
        return
    ref = result.get(rule.ref_field)
    facts = {k: v for k, v in result.items() if not isinstance(v, (list, dict))}
    if str(result.get(rule.when_field)) in rule.open_values:
        d.changes.append(
            OpenIssue(
                topic=rule.topic,
                intent=task.intent,
                action=policy.action if rule.recheck else None,
                ref=None if ref is None else str(ref),
                facts=facts,
            )
        )
    elif ref is not None:
        d.changes.append(ResolveIssue(topic=rule.topic, ref=str(ref)))


# ---- follow-up questions after an action ---------------------------------------------------------


def current_step(task: Task, policy: IntentPolicy) -> Step | None:
    if task.step == [AGENT_OFFER]:
        return AGENT_OFFER_STEP
    step = policy.after
    for label in task.step:
        if step is None:
            return None
        step = step.answers.get(label)
    return step


def do_step(d: Deciding, task: Task, step: Step, path: list[str]) -> None:
    if step.reply:
        d.say(step.reply, kind="text", result=task.result or {}, slots=task.slots)
    if step.resolve and task.result is not None:
        rule = d.policy(task.intent).issue if task.intent in d.policies.intents else None
        ref = task.result.get(rule.ref_field) if rule else None
        if rule is not None and ref is not None:
            d.changes.append(ResolveIssue(topic=rule.topic, ref=str(ref)))
    if step.handoff:
        # "route": the queue the action's result names (a dispute not made by the customer goes to
        # fraud), else the intent's route.
        routed = (task.result or {}).get("route") or d.policy(task.intent).route
        queue = str(routed) if step.handoff == "route" else step.handoff
        if queue == "bot":
            queue = "general"
        facts = {k: v for k, v in (task.result or {}).items() if not isinstance(v, (list, dict))}
        d.changes.append(OpenIssue(topic=task.intent, intent=task.intent, facts=facts))
        d.hand_over(
            task.intent,
            queue,
            f"{task.intent}: {path[-1] if path else 'handoff'}",
            trigger="customer_request" if task.step == [AGENT_OFFER] else "policy",
        )
        return
    if step.start:
        carried = {name: _lookup(task, source) for name, source in step.carry.items()}
        advance(d, d.new_task(step.start, {k: v for k, v in carried.items() if v is not None}))
        return
    if step.ask:
        task.awaiting = AFTER
        task.step = path
        d.state.task = task
        d.say(step.ask, kind="prompt", result=task.result or {}, slots=task.slots)


# ---- answers without an action -----------------------------------------------------------------------


def answer_without_action(d: Deciding, task: Task, policy: IntentPolicy) -> None:
    if policy.reply:
        d.say(policy.reply, kind="text")
    if policy.answer == "knowledge":
        reply = knowledge(d, fallback_intent=task.intent)
        if reply.grounded:
            say_knowledge(d, reply)
        else:
            d.say("knowledge.dont_know", kind="fallback")
            if policy.handoff is None:
                d.offer_agent(task.intent)
                return
    d.state.last = task
    if policy.handoff == "offer":
        d.say("handoff.offer_route", kind="prompt", queue=policy.route)
        offer = d.new_task(task.intent)
        offer.awaiting = AFTER
        offer.step = [AGENT_OFFER]
        d.state.task = offer


def general_answer(d: Deciding, task: Task) -> None:
    reply = knowledge(d, fallback_intent=task.intent)
    if reply.grounded:
        say_knowledge(d, reply)


def knowledge(d: Deciding, *, fallback_intent: str | None = None) -> KnowledgeReply:
    reply = d.ask(AskKnowledge.of(d.turn.text, language=d.language, hint=ranking(d.turn, fallback_intent)))
    assert isinstance(reply, KnowledgeReply)
    return reply


def say_knowledge(d: Deciding, reply: KnowledgeReply) -> None:
    d.say(
        "knowledge.answer",
        kind="answer",
        citations=reply.citations,
        text=reply.text,
        explanations=list(reply.explanations),
        passages=reply.passages,
    )


# ---- identity ------------------------------------------------------------------------------------------


def send_code(d: Deciding, task: Task) -> None:
    sent = d.ask(SendCode(d.language))
    if not isinstance(sent, CodeSent):
        assert isinstance(sent, CodeNotSent)
        if sent.code == "identity_locked":
            d.say("verify.locked", kind="verification", locked_until=sent.locked_until)
            d.offer_agent(task.intent)
        else:
            d.say("verify.wait", kind="verification")
            task.awaiting = CODE
            d.state.task = task
        return
    d.say("verify.code_sent", kind="verification", destination=sent.destination, minutes=sent.valid_minutes)
    task.awaiting = CODE
    d.state.task = task


# ---- asking again ------------------------------------------------------------------------------------


def is_new_request(d: Deciding, task: Task) -> bool:
    intent = d.turn.intent
    return (
        intent is not None
        and intent.name not in (UNCLEAR, task.intent)
        and intent.name not in SMALL_TALK
        and intent.confidence >= d.policies.settings.intent_threshold
        and intent.name in d.policies.intents
    )


def reprompt_or_give_up(d: Deciding, task: Task) -> bool:
    task.reprompts += 1
    if task.reprompts > d.policies.settings.max_reprompts:
        d.say("dialogue.give_up", kind="prompt")
        d.offer_agent(task.intent)
        return True
    reprompt(d, task)
    return True


def reprompt(d: Deciding, task: Task) -> None:
    policy = d.policy(task.intent)
    awaiting = task.awaiting
    if awaiting is None:
        return
    if awaiting.kind == "code":
        d.say("verify.enter_code", kind="verification")
    elif awaiting.kind == "confirm" and policy.confirm:
        d.say(policy.confirm, kind="confirm", slots=task.slots)
    elif awaiting.kind == "slot" and awaiting.slot == PICK:
        d.say("ask.pick", kind="prompt", choices=task.choices)
    elif awaiting.kind == "slot" and awaiting.slot is not None:
        ask_slot(d, task, awaiting.slot, policy)
    elif awaiting.kind == "after" and task.step == [ACTION_OFFER]:
        d.say("offer.do_it", kind="prompt", topic=task.intent)
    elif awaiting.kind == "after":
        step = current_step(task, policy)
        if step is not None and step.ask:
            d.say(step.ask, kind="prompt", result=task.result or {}, slots=task.slots)


def ask_slot(d: Deciding, task: Task, name: str, policy: IntentPolicy) -> None:
    d.say(slot_prompt(policy, name), kind="prompt", choices=task.choices, slots=task.slots)


def slot_prompt(policy: IntentPolicy, name: str) -> str:
    """The template that asks for slot `name`: its own prompt; for a slot of `require_one_of`
    (any one of them will do), the policy's prompt for them; else `ask.<slot>`."""
    slot_policy = policy.slots.get(name)
    if slot_policy is not None and slot_policy.prompt:
        return slot_policy.prompt
    if name in policy.require_one_of:
        return policy.require_one_prompt or "dialogue.need_more"
    return f"ask.{name}"


# ---- slot values --------------------------------------------------------------------------------------


def fill(turn: Turn, task: Task, policy: IntentPolicy, *, overwrite: bool) -> bool:
    found = slot_values(turn, policy.slots)
    changed = False
    for name, value in found.items():
        if task.slots.get(name) != value and (overwrite or name not in task.slots):
            task.slots[name] = value
            changed = True
    return changed


def choose(turn: Turn, task: Task, name: str) -> bool:
    choice = pick_choice(turn, task.choices)
    if choice is None:
        return False
    task.slots[name] = choice["value"]
    return True


def chosen(task: Task) -> dict[str, Any] | None:
    values = set(map(str, task.slots.values()))
    for choice in task.choices:
        if str(choice.get("value")) in values:
            return choice
    return None


LITERAL = "value:"  # a carried value given in the policy itself (`reason: "value:unrecognised"`)


def _lookup(task: Task, source: str) -> Any:
    """`result.match.ref` or `slots.amount` from a finished task; `value:X` is X itself."""
    if source.startswith(LITERAL):
        return source[len(LITERAL) :]
    root: Any = {"result": task.result or {}, "slots": task.slots}
    for part in source.split("."):
        if not isinstance(root, Mapping):
            return None
        root = root.get(part)
    return root


def login_needed(d: Deciding) -> str:
    """How an anonymous customer identifies: signing in to the app, or on WeChat binding the openid."""
    return "verify.bind_needed" if d.ctx.channel == "wechat" else "verify.login_needed"
