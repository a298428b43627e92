"""`decide` is pure: a table of turns, each with the results its effects get, and what the bot decides.

No database, no NLU model: the message is a hand-written `Turn`, and each effect `decide` asks for
is answered from the row's table of results (the fake ports). The pack's own policies, triggers,
style rules and tips are used, so the table reads as the pack's behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from helixdesk.bank.connector import Customer
from helixdesk.core.turn import Emotion, Entity, Intent, RiskSignal, Turn
from helixdesk.dialogue.context import CustomerContext, TurnContext
from helixdesk.dialogue.decide import Decider, Decision
from helixdesk.dialogue.effects import (
    ActionDone,
    ActionRefused,
    Ask,
    AskKnowledge,
    CheckCode,
    Choices,
    CodeChecked,
    CodeNotSent,
    CodeSent,
    HandOver,
    IssueRaised,
    KnowledgeReply,
    ListChoices,
    OpenIssue,
    RedactMessage,
    ResolveIssue,
    Result,
    RunAction,
    SendCode,
)
from helixdesk.dialogue.state import AFTER, CODE, CONFIRM, DialogueState, Task, slot
from helixdesk.edge.wiring import PackConfig
from helixdesk.memory.service import IssueView
from helixdesk.packs.loader import load_pack

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
NOT_FOUND = KnowledgeReply(grounded=False)
GROUNDED = KnowledgeReply(grounded=True, text="Freeze the card in the app at once.")
CARDS = Choices(
    (
        {"value": "1234", "tail": "1234", "label_en": "Debit card ending 1234", "keywords": ["debit"]},
        {"value": "9876", "tail": "9876", "label_en": "Credit card ending 9876", "keywords": ["credit"]},
    )
)


@pytest.fixture(scope="module")
def decider() -> Decider:
    return Decider(PackConfig.load(load_pack("retail_bank"), code_length=6).dialogue)


def profile(**changes: Any) -> Customer:
    base: dict[str, Any] = {
        "ref": "C000042",
        "name_zh": "王芳",
        "name_en": "Fang Wang",
        "gender": "F",
        "birth_date": date(1985, 5, 1),
        "segment": "mass",
        "value_tier": "standard",
        "risk_tolerance": "balanced",
        "preferred_language": "zh-Hans",
        "phone": "13800138000",
        "email": None,
        "city": "Shanghai",
        "customer_since": date(2015, 1, 1),
        "interests": (),
        "relationship_manager": None,
    }
    return Customer(**{**base, **changes})


def says(text: str, intent: str | None = None, confidence: float = 0.95, **changes: Any) -> Turn:
    turn = Turn(
        text=text,
        normalized=text.lower(),
        language="en" if text.isascii() else "zh-Hans",
        intent=Intent(intent, confidence) if intent else None,
        intent_ranking=(Intent(intent, confidence),) if intent else (),
    )
    return turn.with_(**changes)


def context(
    *,
    signed_in: bool = False,
    verified: bool = False,
    state: DialogueState | None = None,
    issues: tuple[IssueView, ...] = (),
    customer: Customer | None = None,
    language: str | None = None,
) -> TurnContext:
    return TurnContext(
        conversation_id="conv-1",
        message_id="msg-1",
        language=language,
        customer=CustomerContext(
            customer_id="cust-1",
            customer_ref="C000042" if signed_in else None,
            profile=(customer or profile()) if signed_in else None,
            open_issues=issues,
        ),
        # The lifecycle touch was looked for already, unless a test says otherwise (its own tests below).
        state=state or DialogueState(issues_raised=True, touch_checked=True),
        verified=verified,
        now=NOW,
    )


Answer = Result | Callable[[Ask], Result]


@dataclass
class Played:
    decision: Decision
    asked: list[Ask] = field(default_factory=list)


def play(decider: Decider, ctx: TurnContext, turn: Turn, answers: dict[type, Answer]) -> Played:
    """Run decide as the executor would, answering each effect from `answers` (by effect type)."""
    results: dict[Ask, Result] = {}
    played = Played(decision=decider.decide(ctx, turn, results))
    while played.decision.pending is not None:
        effect = played.decision.pending
        played.asked.append(effect)
        answer = answers[type(effect)]
        results[effect] = answer(effect) if callable(answer) else answer
        played.decision = decider.decide(ctx, turn, results)
    return played


def keys(played: Played) -> list[str]:
    return [s.key for s in played.decision.says]


# ---- the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    ctx: Callable[[], TurnContext]
    turn: Turn
    answers: dict[type, Answer]
    said: list[str]
    asked: list[type]
    check: Callable[[Played], None] = lambda _p: None


def awaiting(kind: str) -> Callable[[Played], None]:
    def check(p: Played) -> None:
        task = p.decision.state.task
        assert task is not None and task.awaiting is not None and task.awaiting.kind == kind

    return check


def with_task(task: Task) -> Callable[[], TurnContext]:
    return lambda: context(
        signed_in=True, verified=True, state=DialogueState(task=task, issues_raised=True, touch_checked=True)
    )


ONE_CARD = Choices((CARDS.options[0],))
MERCHANT = Entity("merchant", "全家", "FamilyMart", 22, 32)


def _match(ref: str, amount: str, at: str) -> dict[str, Any]:
    t = {"ref": ref, "merchant": "全家 FamilyMart", "amount": amount, "currency": "CNY", "card_last4": "1234"}
    return {"transaction": {**t, "occurred_at": at, "occurred_local": at, "status": "posted"}, "score": 5}


TWO_MATCHES = {
    "matches": [
        _match("TX1", "-13.43", "2026-12-02T03:14:00+00:00"),
        _match("TX2", "-58.36", "2026-11-18T06:54:00+00:00"),
    ],
    "found": True,
    "best_ref": "TX1",
}


def _picking() -> Task:
    from helixdesk.dialogue.flows.tasks import PICK, _pick_choice

    choices = [_pick_choice(i, m) for i, m in enumerate(TWO_MATCHES["matches"])]
    return Task(
        "unrecognized_transaction", id="t-x", result=dict(TWO_MATCHES), awaiting=slot(PICK), choices=choices
    )


def _awaits_pick(p: Played) -> None:
    task = p.decision.state.task
    assert task is not None and task.awaiting == slot("__pick__") and len(task.choices) == 2


def _picked(p: Played, ref: str) -> None:
    last = p.decision.state.last
    task = p.decision.state.task
    assert task is not None and task.result is not None
    assert [m["transaction"]["ref"] for m in task.result["matches"]] == [ref]
    assert task.result["best_ref"] == ref
    assert last is not None


def _protective_freeze(p: Played, tail: str) -> None:
    run = next(a for a in p.asked if isinstance(a, RunAction))
    assert run.name == "freeze_card" and run.confirmed is True
    assert run.params == {"card_last4": tail, "reason": "fraud"}
    assert run.idempotency_key == f"conv-1:protect:{tail}"  # a replay never freezes twice
    assert not any(isinstance(a, SendCode) for a in p.asked)
    assert p.decision.handover is not None and p.decision.handover.queue == "fraud"


def _freeze_asked(p: Played) -> None:
    run = next(a for a in p.asked if isinstance(a, RunAction))
    assert run.name == "freeze_card" and run.confirmed is True
    assert run.params["card_last4"] == "1234"
    assert run.idempotency_key == "conv-1:t-lost"  # one key per task: a replay never freezes twice
    assert p.decision.state.last is not None and p.decision.state.last.result == {"card_last4": "1234"}


ROWS = [
    Row(
        "a greeting is answered without any effect",
        lambda: context(),
        says("hello", "greeting"),
        {},
        ["reply.greeting"],
        [],
    ),
    Row(
        "a visitor asking for a balance gets the general answer and how to sign in",
        lambda: context(),
        says("what's my balance?", "balance_inquiry"),
        {AskKnowledge: NOT_FOUND},
        ["verify.login_needed"],
        [AskKnowledge],
    ),
    Row(
        "a signed-in customer who is not verified is sent a code first, with no how-to before it",
        lambda: context(signed_in=True),
        says("what's my balance?", "balance_inquiry"),
        {AskKnowledge: NOT_FOUND, SendCode: CodeSent("138****8000", 5)},
        ["verify.code_sent"],
        [SendCode],
        awaiting("code"),
    ),
    Row(
        "a locked-out customer is offered a person instead of a code",
        lambda: context(signed_in=True),
        says("what's my balance?", "balance_inquiry"),
        {AskKnowledge: NOT_FOUND, SendCode: CodeNotSent("identity_locked", NOW)},
        ["verify.locked", "handoff.offer"],
        [SendCode],
        awaiting("after"),
    ),
    Row(
        "a verified customer gets the balance from the action",
        lambda: context(signed_in=True, verified=True),
        says("what's my balance?", "balance_inquiry"),
        {RunAction: ActionDone({"accounts": []})},
        ["result.get_balance"],
        [RunAction],
    ),
    Row(
        "the right code verifies, then the pending request runs, and the code is redacted",
        with_task(Task("balance_inquiry", id="t-bal", awaiting=CODE)),
        says("123456"),
        {CheckCode: CodeChecked("verified"), RunAction: ActionDone({"accounts": []})},
        ["verify.ok", "result.get_balance"],
        [CheckCode, RunAction],
        lambda p: (
            None
            if p.decision.redact_message and any(isinstance(c, RedactMessage) for c in p.decision.changes)
            else pytest.fail("the code message must be redacted")
        ),
    ),
    Row(
        "a wrong code says how many tries are left and keeps waiting",
        with_task(Task("balance_inquiry", id="t-bal", awaiting=CODE)),
        says("111111"),
        {CheckCode: CodeChecked("wrong_code", attempts_left=2)},
        ["verify.wrong"],
        [CheckCode],
        awaiting("code"),
    ),
    Row(
        "a lost card with two cards asks which one",
        lambda: context(signed_in=True, verified=True),
        says("I lost my card", "card_lost_or_stolen"),
        {ListChoices: CARDS},
        ["ask.which_card"],
        [ListChoices],
        awaiting("slot"),
    ),
    Row(
        "naming the card asks to confirm before anything changes",
        with_task(
            Task("card_lost_or_stolen", id="t-lost", awaiting=slot("card_last4"), choices=list(CARDS.options))
        ),
        says("the one ending 1234", entities=(Entity("card_tail", "1234", "1234", 15, 19),)),
        {ListChoices: CARDS},
        ["confirm.freeze_card"],
        [],
        awaiting("confirm"),
    ),
    Row(
        "yes freezes the card once, with the task's idempotency key",
        with_task(Task("card_lost_or_stolen", id="t-lost", slots={"card_last4": "1234"}, awaiting=CONFIRM)),
        says("yes"),
        {ListChoices: CARDS, RunAction: ActionDone({"card_last4": "1234"})},
        ["result.freeze_card", "after.offer_reissue"],
        [RunAction],
        _freeze_asked,
    ),
    Row(
        "no changes nothing",
        with_task(Task("card_lost_or_stolen", id="t-lost", slots={"card_last4": "1234"}, awaiting=CONFIRM)),
        says("no"),
        {},
        ["dialogue.not_changed"],
        [],
        lambda p: None if p.decision.state.task is None else pytest.fail("the task must be dropped"),
    ),
    Row(
        "cancel drops what the bot was asking",
        with_task(Task("card_lost_or_stolen", id="t-lost", awaiting=slot("card_last4"))),
        says("cancel"),
        {},
        ["dialogue.cancelled"],
        [],
    ),
    Row(
        "an action that refuses is worded and a person is offered",
        lambda: context(signed_in=True, verified=True),
        says("what's my balance?", "balance_inquiry"),
        {RunAction: ActionRefused("account_not_found")},
        ["action_error.account_not_found", "handoff.offer"],
        [RunAction],
    ),
    Row(
        "a visitor's exchange-rate question runs the public action",
        lambda: context(),
        says("USD rate today?", "exchange_rate"),
        {RunAction: ActionDone({"currency": "USD", "buy": "7.1", "sell": "7.2"})},
        ["result.get_exchange_rate"],
        [RunAction],
    ),
    Row(
        "a strong fraud signal hands over before any code; which of two cards to freeze is left to the specialist",
        lambda: context(signed_in=True),
        says(
            "someone stole my card and is using it",
            "card_fraud_report",
            risk=(RiskSignal("fraud", "stole my card", 14, 27, 1.0),),
        ),
        {ListChoices: CARDS},
        ["handoff.trigger.fraud_risk", "protect.specialist_freezes", "handoff.now"],
        [ListChoices],
        lambda p: (
            None
            if p.decision.handover
            == HandOver(
                queue="fraud",
                reason="fraud_risk: stole my card",
                intent="card_fraud_report",
                trigger="fraud_risk",
                evidence="stole my card",
            )
            else pytest.fail(f"unexpected handover {p.decision.handover}")
        ),
    ),
    Row(
        "a fraud report freezes the customer's only card at once, with no one-time code, then goes to fraud",
        lambda: context(signed_in=True),
        says("someone took money from my card", "card_fraud_report"),
        {ListChoices: ONE_CARD, RunAction: ActionDone({"card_last4": "1234", "changed": True})},
        ["handoff.trigger.fraud_risk", "protect.frozen", "handoff.now"],
        [ListChoices, RunAction],
        lambda p: _protective_freeze(p, "1234"),
    ),
    Row(
        "a fraud report names the card by its kind: that one is frozen",
        lambda: context(signed_in=True),
        says("my credit card has charges I never made, freeze it", "card_fraud_report"),
        {ListChoices: CARDS, RunAction: ActionDone({"card_last4": "9876", "changed": True})},
        ["handoff.trigger.fraud_risk", "protect.frozen", "handoff.now"],
        [ListChoices, RunAction],
        lambda p: _protective_freeze(p, "9876"),
    ),
    Row(
        "a scam victim who gave a code away goes to fraud even while a code is awaited, and is asked for none",
        lambda: context(
            signed_in=True,
            state=DialogueState(task=Task("balance_inquiry", id="t-bal", awaiting=CODE), issues_raised=True),
        ),
        says(
            "a man said he was police and I read him the sms code",
            "card_fraud_report",
            risk=(RiskSignal("fraud", "read him the sms code", 30, 51, 0.9),),
        ),
        {ListChoices: CARDS},
        ["handoff.trigger.fraud_risk", "protect.specialist_freezes", "handoff.now"],
        [ListChoices],
        lambda p: (
            None if p.decision.handover and p.decision.handover.queue == "fraud" else pytest.fail("fraud")
        ),
    ),
    Row(
        "a visitor's fraud report goes to fraud with how to freeze a card themselves",
        lambda: context(),
        says("I think I've been scammed", "card_fraud_report"),
        {},
        ["handoff.trigger.fraud_risk", "protect.how_to_freeze", "handoff.now"],
        [],
    ),
    Row(
        "a lost card needs no one-time code for the protective freeze: the bot asks which card",
        lambda: context(signed_in=True),
        says("I lost my card", "card_lost_or_stolen"),
        {ListChoices: CARDS},
        ["ask.which_card"],
        [ListChoices],
        awaiting("slot"),
    ),
    Row(
        "the lost card asked again in full after the offer of a person is served again, not queued",
        with_task(Task("card_lost_or_stolen", id="t-lost", awaiting=AFTER, step=["__agent_offer__"])),
        says("Sorry, let me say that again. I lost my card, please freeze it", "card_lost_or_stolen"),
        {ListChoices: CARDS},
        ["ask.which_card"],
        [ListChoices],
        lambda p: None if p.decision.handover is None else pytest.fail("queued for a person"),
    ),
    Row(
        "'yes please' to the offer of a person still hands over",
        with_task(Task("card_lost_or_stolen", id="t-lost", awaiting=AFTER, step=["__agent_offer__"])),
        says("yes please", "card_lost_or_stolen"),
        {},
        ["handoff.now"],
        [],
        lambda p: None if p.decision.handover is not None else pytest.fail("not handed over"),
    ),
    Row(
        "hardship in answer to a yes/no question is not a 'no': it goes to a senior agent",
        with_task(Task("card_lost_or_stolen", id="t-lost", slots={"card_last4": "1234"}, awaiting=CONFIRM)),
        says(
            "my husband passed away, no income, I can't keep up with the repayments",
            "loan_repayment_hardship",
        ),
        {},
        ["handoff.hardship", "handoff.now"],
        [],
        lambda p: (
            None if p.decision.handover and p.decision.handover.queue == "senior" else pytest.fail("senior")
        ),
    ),
    Row(
        "a clear new request wins over a pending yes/no, and the open task is offered back",
        with_task(Task("card_lost_or_stolen", id="t-lost", slots={"card_last4": "1234"}, awaiting=CONFIRM)),
        says("no wait, first tell me my balance please", "balance_inquiry"),
        {RunAction: ActionDone({"accounts": []})},
        ["result.get_balance", "dialogue.back_to", "confirm.freeze_card"],
        [RunAction],
        awaiting("confirm"),
    ),
    Row(
        "a short answer stays an answer even when the model reads an intent into it",
        with_task(Task("card_lost_or_stolen", id="t-lost", slots={"card_last4": "1234"}, awaiting=CONFIRM)),
        says("no thanks", "goodbye"),
        {},
        ["dialogue.not_changed"],
        [],
    ),
    Row(
        "asking for a person while a card is being chosen hands over",
        with_task(
            Task("card_lost_or_stolen", id="t-lost", awaiting=slot("card_last4"), choices=list(CARDS.options))
        ),
        says("just get me a real person", "human_agent"),
        {},
        ["handoff.requested", "handoff.now"],
        [],
    ),
    Row(
        "several matching charges: they are listed and the customer picks one first",
        lambda: context(signed_in=True, verified=True),
        says("I don't recognise a FamilyMart charge", "unrecognized_transaction", entities=(MERCHANT,)),
        {RunAction: ActionDone(TWO_MATCHES)},
        ["result.explain_transaction"],
        [RunAction],
        lambda p: _awaits_pick(p),
    ),
    Row(
        "'the biggest one' picks the larger charge, then the follow-up question is asked about it",
        with_task(_picking()),
        says("the biggest one"),
        {},
        ["result.explain_transaction", "after.recognise_now"],
        [],
        lambda p: _picked(p, "TX2"),
    ),
    Row(
        "'the second one' picks by position",
        with_task(_picking()),
        says("the second one"),
        {},
        ["result.explain_transaction", "after.recognise_now"],
        [],
        lambda p: _picked(p, "TX2"),
    ),
    Row(
        "'number 2, please' picks by position",
        with_task(_picking()),
        says("Number 2, please."),
        {},
        ["result.explain_transaction", "after.recognise_now"],
        [],
        lambda p: _picked(p, "TX2"),
    ),
    Row(
        "'选2' picks by position",
        with_task(_picking()),
        says("选2吧"),
        {},
        ["result.explain_transaction", "after.recognise_now"],
        [],
        lambda p: _picked(p, "TX2"),
    ),
    Row(
        "'the latest one' picks by time",
        with_task(_picking()),
        says("最近的那笔"),
        {},
        ["result.explain_transaction", "after.recognise_now"],
        [],
        lambda p: _picked(p, "TX1"),
    ),
    Row(
        "an answer that picks nothing is asked again",
        with_task(_picking()),
        says("hmm"),
        {},
        ["ask.pick"],
        [],
        awaiting("slot"),
    ),
    Row(
        "the task put aside comes back once the digression's code is given and it is answered",
        lambda: context(
            signed_in=True,
            state=DialogueState(
                task=Task("balance_inquiry", id="t-bal", awaiting=CODE),
                stack=[
                    Task("card_lost_or_stolen", id="t-lost", slots={"card_last4": "1234"}, awaiting=CONFIRM)
                ],
                issues_raised=True,
            ),
        ),
        says("123456"),
        {CheckCode: CodeChecked("verified"), RunAction: ActionDone({"accounts": []})},
        ["verify.ok", "result.get_balance", "dialogue.back_to", "confirm.freeze_card"],
        [CheckCode, RunAction],
        awaiting("confirm"),
    ),
    Row(
        "a how-to question about an action gets the knowledge answer, then an offer to do it",
        lambda: context(signed_in=True),
        says("what should I do if my card's been lost?", "card_lost_or_stolen"),
        {AskKnowledge: GROUNDED},
        ["knowledge.answer", "offer.do_it"],
        [AskKnowledge],
        awaiting("after"),
    ),
    Row(
        "a how-to question that also asks for it to be done goes straight to the action",
        lambda: context(signed_in=True),
        says("how do I freeze my card? can you do it for me", "card_lost_or_stolen"),
        {ListChoices: CARDS},
        ["ask.which_card"],
        [ListChoices],
        awaiting("slot"),
    ),
    Row(
        "after the how-to answer, 'OK, can you block the card then' runs the action",
        with_task(Task("card_lost_or_stolen", id="t-lost", awaiting=AFTER, step=["__action_offer__"])),
        says("OK, can you block the card then", "card_lost_or_stolen"),
        {ListChoices: CARDS},
        ["ask.which_card"],
        [ListChoices],
        awaiting("slot"),
    ),
    Row(
        "after the how-to answer, no leaves it",
        with_task(Task("card_lost_or_stolen", id="t-lost", awaiting=AFTER, step=["__action_offer__"])),
        says("no thanks"),
        {},
        ["dialogue.anything_else"],
        [],
    ),
    Row(
        "an answer about the topic the question offers is an answer, not a new request",
        lambda: context(
            signed_in=True,
            verified=True,
            state=DialogueState(
                task=Task(
                    "card_lost_or_stolen",
                    id="t-lost",
                    slots={"card_last4": "1234"},
                    result={"card_last4": "1234"},
                    awaiting=AFTER,
                    step=[],
                ),
                issues_raised=True,
            ),
        ),
        says("新卡先不用补，谢谢", "card_reissue"),
        {},
        ["after.no_reissue"],
        [],
    ),
    Row(
        "a dispute left for review goes to the queue the dispute rules chose (fraud for a charge not made by the customer)",
        with_task(
            Task(
                "dispute_charge",
                id="t-d",
                slots={"transaction_ref": "TX1", "reason": "unrecognised"},
                awaiting=CONFIRM,
            )
        ),
        says("yes"),
        {RunAction: ActionDone({"status": "pending_review", "route": "fraud", "dispute_ref": "DP1"})},
        ["result.open_dispute", "handoff.now"],
        [RunAction],
        lambda p: (
            None if p.decision.handover and p.decision.handover.queue == "fraud" else pytest.fail("fraud")
        ),
    ),
    Row(
        "small talk read into an answer does not put the pending question aside",
        with_task(Task("card_lost_or_stolen", id="t-lost", slots={"card_last4": "1234"}, awaiting=CONFIRM)),
        says("the biggest one of them", "praise", confidence=0.9),
        {},
        ["confirm.freeze_card"],
        [],
        awaiting("confirm"),
    ),
    Row(
        "asking for a person hands over at once",
        lambda: context(),
        says("I want to talk to a human", "human_agent"),
        {},
        ["handoff.requested", "handoff.now"],
        [],
        lambda p: (
            None
            if p.decision.handover is not None and p.decision.handover.trigger == "customer_request"
            else pytest.fail("the customer asked for a person")
        ),
    ),
    Row(
        "a second unclear message offers a person",
        lambda: context(state=DialogueState(issues_raised=True, low_confidence=1)),
        says("blorp zzz", "out_of_scope", confidence=0.2),
        {AskKnowledge: NOT_FOUND},
        ["dialogue.unclear", "handoff.offer"],
        [AskKnowledge],
    ),
    Row(
        "a returning customer hears about the issue they left open, re-checked",
        lambda: context(
            signed_in=True,
            verified=True,
            state=DialogueState(),
            issues=(
                IssueView(
                    id="iss-1",
                    topic="transfer_pending",
                    intent="transfer_failed",
                    action="trace_transfer",
                    ref="T1",
                    facts={},
                    status="open",
                    opened_at=NOW,
                    conversation_id="old",
                ),
            ),
        ),
        says("hello", "greeting"),
        {RunAction: ActionDone({"status": "completed", "ref": "T1"})},
        ["issue.settled", "reply.greeting"],
        [RunAction],
        lambda p: (
            None
            if IssueRaised("iss-1") in p.decision.changes
            and ResolveIssue(issue_id="iss-1") in p.decision.changes
            else pytest.fail(f"changes {p.decision.changes}")
        ),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_decide(decider: Decider, row: Row) -> None:
    played = play(decider, row.ctx(), row.turn, row.answers)
    assert keys(played) == row.said
    assert [type(a) for a in played.asked] == row.asked
    row.check(played)


# ---- properties -------------------------------------------------------------------------------------


def test_decide_writes_nothing_and_gives_the_same_decision_twice(decider: Decider) -> None:
    ctx = context(signed_in=True, verified=True)
    turn = says("I lost my card", "card_lost_or_stolen")
    before = ctx.state.to_dict()
    first = play(decider, ctx, turn, {ListChoices: CARDS})
    second = play(decider, ctx, turn, {ListChoices: CARDS})
    assert first.decision == second.decision
    assert ctx.state.to_dict() == before  # the context's state is never changed


def test_an_issue_left_open_by_the_action_is_remembered(decider: Decider) -> None:
    played = play(
        decider,
        context(signed_in=True, verified=True),
        says("my transfer T1 hasn't arrived", "transfer_failed"),
        {RunAction: ActionDone({"status": "pending", "ref": "T1", "transfers": []})},
    )
    opened = [c for c in played.decision.changes if isinstance(c, OpenIssue)]
    assert opened and opened[0].topic and opened[0].ref == "T1"


def test_an_angry_customer_gets_an_empathy_opening_in_the_reply() -> None:
    from helixdesk.nlg.replies import ReplyWriter, Say

    config = PackConfig.load(load_pack("retail_bank"), code_length=6)
    writer = ReplyWriter(templates=config.templates, style_policy=config.dialogue.style)
    angry = says("this is ridiculous", "complaint").with_(emotion=Emotion("anger", 0.9))
    calm = says("thanks", "praise").with_(emotion=Emotion("joy", 0.8))
    said = [Say("dialogue.unclear", kind="fallback"), Say("handoff.offer", kind="prompt")]
    angry_reply = writer.write(said, turn=angry, language="en", style="warm", profile=None)
    calm_reply = writer.write(said, turn=calm, language="en", style="warm", profile=None)
    assert len(angry_reply) == len(calm_reply) == 1  # the prompt joins the reply before it
    assert angry_reply[0].text.endswith(calm_reply[0].text) and len(angry_reply[0].text) > len(
        calm_reply[0].text
    )
    zh = writer.write(said, turn=calm, language="zh-Hans", style="warm", profile=profile())
    assert not zh[0].text.isascii()


@pytest.mark.parametrize(
    ("text", "conversation", "expected"),
    [
        ("我個friend WhatsApp我話張卡有問題，叫我俾code佢", None, "zh-Hant"),
        ("我的friend在WhatsApp上让我把code给他", None, "zh-Hans"),
        ("我的friend在WhatsApp上让我把code给他", "zh-Hant", "zh-Hant"),
        ("ok", "zh-Hant", "zh-Hant"),
    ],
)
def test_code_switched_chinese_is_answered_in_the_script_the_customer_writes(text, conversation, expected):
    from helixdesk.dialogue.flows.base import reply_language
    from helixdesk.nlu.stages.language import detect_language

    turn = Turn(text=text, normalized=text.lower(), language=detect_language(text))
    assert reply_language(turn, conversation) == expected
