"""The recommendations that come with `GET /console/api/conversations/{id}/customer-profile` (on
SQLite and PostgreSQL): what the active strategies offer the conversation's customer in the
console, after the suitability gate. The expected lists are worked out here from the pack's
strategies and gate limits and the customer's facts, restating the documented rules
(docs/lifecycle.md) rather than calling the code under test."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.models import BankCustomer, BankMonthlyActivity
from helixdesk.conversations.models import Conversation, Message, Sender
from helixdesk.db.session import transaction
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.customer import from_bank
from helixdesk.lifecycle.service import describe
from helixdesk.lifecycle.strategies import Strategy, load_strategies
from helixdesk.lifecycle.suitability import COMPLAINT_INTENTS, FRAUD_INTENTS, load_suitability
from helixdesk.memory.models import CustomerIssue
from helixdesk.packs.loader import load_pack
from tests.churn_models import models_with_churn
from tests.console_login import sign_in
from tests.integration.test_customer_profile_api import FRAUD_TEXT, PASSWORD, make_client, profile_of, start

PACK = load_pack("retail_bank")
STRATEGIES = load_strategies(PACK).strategies
POLICY = load_suitability(PACK)
CONFIG = load_lifecycle_config(PACK)
ASK = "我想查一下账户余额"
GATED = COMPLAINT_INTENTS | FRAUD_INTENTS


@pytest.fixture(scope="module")
def churn_models(model_root, tmp_path_factory):
    return models_with_churn(model_root, tmp_path_factory.mktemp("models"))


@pytest.fixture
def client(db_url, settings_for, churn_models):
    c = make_client(db_url, settings_for, churn_models)
    yield c
    c.__exit__(None, None, None)


def applies(s: Strategy, p: dict) -> bool:
    """The strategy's conditions (docs/lifecycle.md, Strategies) for this profile, in a console
    conversation."""
    stage = p["stage"]["value"]["stage"]
    risk = p["churn_risk"]["value"]
    band = risk["band"] if risk else None
    interests = {i["interest"] for i in p["interests"]["value"]}
    at_risk = stage == "decline" or band == "high"
    w = s.when
    return (
        s.enabled
        and "console" in s.where
        and (not w.triggers or "conversation" in w.triggers)
        and (not w.stages or stage in w.stages)
        and (not w.churn_bands or band in w.churn_bands)
        and (w.at_risk is None or w.at_risk == at_risk)
        and (not w.interests or bool(set(w.interests) & interests))
    )


def rule_for(s: Strategy, tolerance: str, age: int) -> str:
    """The gate's rule (docs/lifecycle.md, The suitability gate) for a customer with no complaint or
    fraud report under way."""
    risk = s.what.item.risk
    if risk is None:
        return "ok"
    allowed = int(POLICY.max_risk.get(tolerance, "R1")[1:])
    if int(risk[1:]) > allowed:
        return "above_tolerance"
    if age >= POLICY.elderly_age and int(risk[1:]) > int(POLICY.vulnerable_max[1:]):
        return "fragile_cap"
    return "ok"


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def customer_intents(client: TestClient, conversation_id: str) -> set[str]:
    with transaction(client.app.state.container.sessions) as s:
        metas = s.scalars(
            select(Message.meta).where(
                Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER.value
            )
        ).all()
    return {((m or {}).get("nlu") or {}).get("intent", {}).get("name") for m in metas} - {None}


def decline(client: TestClient, ref: str) -> None:
    """The customer's activity of the last 3 months falls to a quarter of what it was (never to
    nothing, which would be churn): the lifecycle's `activity_drop` puts them in decline."""
    with transaction(client.app.state.container.sessions) as s:
        customer_id = s.scalars(select(BankCustomer.id).where(BankCustomer.ref == ref)).one()
        months = s.scalars(
            select(BankMonthlyActivity)
            .where(BankMonthlyActivity.customer_id == customer_id)
            .order_by(BankMonthlyActivity.month.desc())
        ).all()
        for month in months[:3]:
            month.transactions = max(1, month.transactions // 4)
            month.logins = max(1, month.logins // 4)


def test_a_customer_in_decline_gets_the_retention_offers_and_none_with_an_open_complaint(client):
    ref = "C000001"
    decline(client, ref)
    with transaction(client.app.state.container.sessions) as s:
        s.scalars(select(BankCustomer).where(BankCustomer.ref == ref)).one().interests = "wealth,travel"
    conversation = start(client, ASK, customer_ref=ref)
    assert not customer_intents(client, conversation) & GATED  # the question is neither
    sign_in(client, "sup.a", PASSWORD)
    r = profile_of(client, conversation)
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["stage"]["value"]["stage"] == "decline"
    assert p["suitability"] == {"open_complaint": False, "fraud_report": False}

    tolerance = p["risk_tolerance"]["value"]
    with transaction(client.app.state.container.sessions) as s:
        birth = s.scalars(select(BankCustomer.birth_date).where(BankCustomer.ref == ref)).one()
    age = age_on(
        birth, datetime.now(UTC).astimezone(client.app.state.container.config.actions.bank.tz).date()
    )
    matched = [s for s in STRATEGIES if applies(s, p)]
    expected = [s.id for s in matched if rule_for(s, tolerance, age) == "ok"]
    shown = p["recommendations"]
    assert [x["strategy_id"] for x in shown] == expected
    assert [(w["strategy_id"], w["rule"]) for w in p["withheld"]] == [
        (s.id, rule_for(s, tolerance, age)) for s in matched if rule_for(s, tolerance, age) != "ok"
    ]
    retention = [s.id for s in STRATEGIES if s.what.kind == "retention_offer" and "console" in s.where]
    assert retention and [x["strategy_id"] for x in shown if x["kind"] == "retention_offer"] == retention
    for x in shown:
        s = next(s for s in STRATEGIES if s.id == x["strategy_id"])
        assert x["texts"] == s.texts
        assert x["value"] == (None if s.what.value is None else str(s.what.value))
        assert x["item"] == s.what.item.model_dump(exclude_none=True)
        assert set(x["explanation"]) == {"zh-Hans", "zh-Hant", "en"}
    assert "in decline" in next(x for x in shown if x["kind"] == "retention_offer")["explanation"]["en"]

    # An open complaint of the same customer (from an earlier contact): nothing at all, each held
    # back as `blocked`, with the strategy's texts for the page to name it.
    with transaction(client.app.state.container.sessions) as s:
        customer_id = s.get(Conversation, conversation).customer_id
        s.add(CustomerIssue(customer_id=customer_id, topic="complaint", intent=sorted(COMPLAINT_INTENTS)[0]))
    blocked = profile_of(client, conversation).json()
    assert blocked["suitability"] == {"open_complaint": True, "fraud_report": False}
    assert blocked["recommendations"] == []
    assert [(w["strategy_id"], w["rule"]) for w in blocked["withheld"]] == [
        (s.id, "blocked") for s in matched
    ]
    for w in blocked["withheld"]:
        assert w["texts"] == next(s for s in STRATEGIES if s.id == w["strategy_id"]).texts


def test_an_elderly_customer_never_gets_a_product_above_r2(client):
    container = client.app.state.container
    today = datetime.now(UTC).astimezone(container.config.actions.bank.tz).date()
    bank = DemoBankConnector(session_factory=container.sessions)

    def make_elderly(ref: str) -> str:
        with transaction(container.sessions) as s:
            row = s.scalars(select(BankCustomer).where(BankCustomer.ref == ref)).one()
            # Their tolerance would allow anything; their age does not.
            row.birth_date = date(today.year - POLICY.elderly_age - 5, 1, 15)
            row.risk_tolerance = "aggressive"
            row.interests = "funds,wealth"
            row.customer_since = date(today.year - 10, 1, 1)  # long with the bank
        return describe(from_bank(bank, ref, today=today), CONFIG, None)["stage"]["stage"]

    # A customer the balanced fund (R3) is for: formation or stability, not decline.
    ref = next(r for r in ("C000002", "C000003", "C000004", "C000005") if make_elderly(r) != "decline")
    conversation = start(client, ASK, customer_ref=ref)
    assert not customer_intents(client, conversation) & GATED
    sign_in(client, "sup.a", PASSWORD)
    p = profile_of(client, conversation).json()
    matched = [s for s in STRATEGIES if applies(s, p)]
    high = [s.id for s in matched if s.what.item.risk and int(s.what.item.risk[1:]) >= 3]
    assert high
    for x in p["recommendations"]:
        risk = x["item"].get("risk")
        assert risk is None or int(risk[1:]) <= int(POLICY.vulnerable_max[1:])
    assert [(w["strategy_id"], w["rule"]) for w in p["withheld"]] == [(i, "fragile_cap") for i in high]
    assert [x["strategy_id"] for x in p["recommendations"]] == [s.id for s in matched if s.id not in high]


def test_a_fraud_report_in_this_conversation_blocks_every_suggestion_while_it_is_open(client):
    conversation = start(client, FRAUD_TEXT)
    assert customer_intents(client, conversation) & FRAUD_INTENTS  # understood as a fraud report
    sign_in(client, "sup.a", PASSWORD)
    p = profile_of(client, conversation).json()
    assert p["suitability"]["fraud_report"] is True
    assert p["recommendations"] == []
    assert {w["rule"] for w in p["withheld"]} <= {"blocked"}

    # Once this conversation is closed its messages no longer count; an issue left open still does.
    container = client.app.state.container
    with transaction(container.sessions) as s:
        conv = s.get(Conversation, conversation)
        conv.state = "closed"
        left_open = set(
            s.scalars(
                select(CustomerIssue.intent).where(
                    CustomerIssue.customer_id == conv.customer_id, CustomerIssue.status == "open"
                )
            )
        )
    after = profile_of(client, conversation).json()
    assert after["suitability"] == {
        "open_complaint": bool(left_open & COMPLAINT_INTENTS),
        "fraud_report": bool(left_open & FRAUD_INTENTS),
    }
    if not left_open & GATED:
        assert "blocked" not in {w["rule"] for w in after["withheld"]}
