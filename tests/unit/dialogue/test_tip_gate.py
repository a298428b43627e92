"""The bot's tips pass the one suitability gate (`helixdesk.lifecycle.suitability`) last.

`decide` is run as the executor would, with the pack's tips (`nlg/tips.yaml`) and the pack's gate
limits (`lifecycle/suitability.yaml`): a fund holder asking about deposit rates hears of the
balanced fund (R3) only when the gate allows R3, of the low-risk savings (R2) otherwise, and of
nothing while a complaint or a fraud report is open.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from helixdesk.bank.connector import Customer
from helixdesk.core.turn import Intent, Turn
from helixdesk.dialogue.context import CustomerContext, TurnContext
from helixdesk.dialogue.decide import Decider
from helixdesk.dialogue.effects import Ask, Choices, KnowledgeReply, ListChoices, Result
from helixdesk.dialogue.state import DialogueState
from helixdesk.edge.wiring import PackConfig
from helixdesk.memory.service import IssueView
from helixdesk.packs.loader import load_pack

NOW = datetime(2026, 12, 4, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def decider() -> Decider:
    return Decider(PackConfig.load(load_pack("retail_bank"), code_length=6).dialogue)


def customer(**changes: Any) -> Customer:
    base: dict[str, Any] = {
        "ref": "C000042", "name_zh": "王芳", "name_en": "Fang Wang", "gender": "F",
        "birth_date": date(1985, 5, 1), "segment": "mass", "value_tier": "standard",
        "risk_tolerance": "balanced", "preferred_language": "en", "phone": "13800138000",
        "email": None, "city": "Shanghai", "customer_since": date(2015, 1, 1), "interests": ("funds",),
    }  # fmt: skip
    return Customer(**{**base, **changes})


def issue(intent: str) -> IssueView:
    return IssueView(
        id="i1", topic=intent, intent=intent, action=None, ref=None, facts={}, status="open",
        opened_at=NOW, conversation_id="conv-0",
    )  # fmt: skip


def tips(
    decider: Decider,
    who: Customer,
    *,
    issues: tuple[IssueView, ...] = (),
    intent: str = "deposit_interest_rate",
    earlier: tuple[str, ...] = (),
) -> list[str]:
    ctx = TurnContext(
        conversation_id="conv-1",
        message_id="msg-1",
        language="en",
        customer=CustomerContext(customer_id="cust-1", customer_ref=who.ref, profile=who, open_issues=issues),
        state=DialogueState(issues_raised=True, intents=list(earlier)),
        verified=False,
        now=NOW,
    )
    turn = Turn(
        text="what is the deposit rate",
        normalized="what is the deposit rate",
        language="en",
        intent=Intent(intent, 0.95),
        intent_ranking=(Intent(intent, 0.95),),
    )
    results: dict[Ask, Result] = {}
    decision = decider.decide(ctx, turn, results)
    while decision.pending is not None:
        ask = decision.pending
        results[ask] = (
            Choices(()) if isinstance(ask, ListChoices) else KnowledgeReply(grounded=True, text="2.1%")
        )
        decision = decider.decide(ctx, turn, results)
    return [s.key for s in decision.says if s.kind == "tip"]


def test_a_balanced_fund_holder_hears_of_the_balanced_fund(decider: Decider) -> None:
    assert tips(decider, customer()) == ["tip.balanced_funds"]


def test_a_conservative_customer_hears_only_of_what_the_gate_allows(decider: Decider) -> None:
    assert tips(decider, customer(risk_tolerance="conservative")) == ["tip.low_risk_savings"]


def test_an_elderly_customer_is_capped_whatever_their_tolerance(decider: Decider) -> None:
    old = customer(risk_tolerance="aggressive", birth_date=date(1950, 1, 1))
    assert tips(decider, old) == ["tip.low_risk_savings"]


@pytest.mark.parametrize("open_intent", ["complaint", "card_fraud_report"])
def test_no_tip_while_a_complaint_or_a_fraud_report_is_open(decider: Decider, open_intent: str) -> None:
    assert tips(decider, customer(), issues=(issue(open_intent),)) == []
    assert tips(decider, customer(), issues=(issue("transfer_failed"),)) == ["tip.balanced_funds"]


def test_no_tip_after_a_complaint_earlier_in_the_conversation(decider: Decider) -> None:
    assert tips(decider, customer(), earlier=("complaint", "greeting")) == []
    assert tips(decider, customer(), earlier=("greeting",)) == ["tip.balanced_funds"]
