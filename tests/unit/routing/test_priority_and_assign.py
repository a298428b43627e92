"""Priority, its explanation, and whom a waiting conversation is offered to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helixdesk.handoff.explain import explain
from helixdesk.handoff.packet import Labels
from helixdesk.handoff.policy import load_handoff_policy
from helixdesk.packs.loader import load_pack
from helixdesk.routing.assign import AgentState, pick_agent
from helixdesk.routing.priority import RoutingInput, decide, effective_priority

PACK = load_pack("retail_bank").path
POLICY = load_handoff_policy(PACK / "handoff" / "policy.yaml")
LABELS = Labels.load(PACK / "handoff" / "labels.yaml")


def agent(
    name,
    roles=("agent",),
    *,
    languages=("zh", "en"),
    skills=(),
    code=None,
    presence="online",
    active=0,
    load=0.0,
    in_a_row=0,
    capacity=3,
) -> AgentState:
    return AgentState(
        id=name,
        display_name=name,
        roles=tuple(roles),
        languages=tuple(languages),
        skills=tuple(skills),
        employee_code=code,
        presence=presence,
        max_concurrent=capacity,
        active=active,
        load=load,
        intense_in_a_row=in_a_row,
    )


def test_fraud_with_fear_is_top_priority_and_explained():
    d = decide(
        RoutingInput(
            queue="fraud",
            reason="fraud_risk",
            evidence="被盗刷",
            intent="card_fraud_report",
            language="zh-Hans",
            risk=(("fraud", 0.9, "被盗刷"),),
            emotion=("fear", 0.8),
            negativity=0.8,
        ),
        POLICY.routing,
    )
    assert d.priority == 100 and d.queue == "fraud" and d.sla_seconds == 60
    # The shown priority is capped; the score keeps ordering two "100"s by how urgent they really are.
    calmer = decide(
        RoutingInput(
            queue="fraud",
            reason="fraud_risk",
            evidence="scam",
            intent="card_fraud_report",
            language="en",
            risk=(("fraud", 0.9, "scam"),),
        ),
        POLICY.routing,
    )
    assert calmer.priority == 95 and d.score == 80 + 15 + 16 > calmer.score
    assert d.explanation == 'fraud_risk ("被盗刷") + risk: fraud + fear 0.80 → fraud queue, priority 100'
    assert d.skills == ("zh", "cards")
    zh = explain(d.factors, [("nobody_free", {})], LABELS, "zh-Hans")
    assert zh.startswith("疑似欺诈（“被盗刷”）") and "反欺诈队列，优先级 100" in zh and "排队等候" in zh
    assert "Fraud queue, priority 100" in explain(d.factors, [], LABELS, "en")


def test_a_calm_general_question_ranks_low_and_rises_while_waiting():
    d = decide(
        RoutingInput(queue="general", reason="customer_request", evidence="", intent=None, language="en"),
        POLICY.routing,
    )
    assert d.priority == 30 and d.skills == ("en",)
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    p = lambda minutes: effective_priority(  # noqa: E731
        d.priority,
        created_at=start,
        sla_seconds=d.sla_seconds,
        now=start + timedelta(minutes=minutes),
        policy=POLICY.routing,
    )
    assert p(0) == 30 and p(2) == 34 and p(60) == 30 + 20 + 10  # capped waiting bonus + SLA breach


def test_vip_customers_get_their_own_relationship_manager_when_online():
    d = decide(
        RoutingInput(
            queue="relationship_manager",
            reason="vip_wealth",
            evidence="vip",
            intent="wealth_product_inquiry",
            language="en",
            value_tier="vip",
        ),
        POLICY.routing,
    )
    assert d.priority == 50 + 15
    mine, other = (
        agent("rm.sun", ("relationship_manager",), code="RM001"),
        agent("rm.zhou", ("relationship_manager",), code="RM002"),
    )
    offer = pick_agent(
        d, [other, mine], negativity=0, relationship_manager="RM001", wellbeing=POLICY.wellbeing
    )
    assert offer.agent_id == "rm.sun" and "their relationship manager rm.sun is online" in offer.note
    away = agent("rm.sun", ("relationship_manager",), code="RM001", presence="away")
    offer = pick_agent(
        d, [other, away], negativity=0, relationship_manager="RM001", wellbeing=POLICY.wellbeing
    )
    assert offer.agent_id == "rm.zhou" and "rm.sun is away" in offer.note


def test_only_qualified_free_agents_speaking_the_language_are_offered():
    d = decide(
        RoutingInput(
            queue="general", reason="bot_failed", evidence="", intent="transfer_failed", language="en"
        ),
        POLICY.routing,
    )
    agents = [
        agent("zh-only", languages=("zh",)),
        agent("full", active=3),
        agent("away", presence="away"),
        agent("fraud-team", ("fraud",)),
        agent("supervisor", ("supervisor",)),
    ]
    assert (
        pick_agent(d, agents, negativity=0, relationship_manager=None, wellbeing=POLICY.wellbeing).agent_id
        is None
    )
    agents.append(agent("ok"))
    agents.append(agent("transfers", skills=("transfers",), load=0.5))
    offer = pick_agent(d, agents, negativity=0, relationship_manager=None, wellbeing=POLICY.wellbeing)
    assert offer.agent_id == "transfers"  # the product skill comes before a lower load


def test_an_intense_conversation_skips_an_agent_after_a_run_of_intense_ones():
    d = decide(
        RoutingInput(
            queue="general",
            reason="emotion_rising",
            evidence="",
            intent=None,
            language="zh-Hans",
            emotion=("anger", 0.9),
            negativity=0.9,
        ),
        POLICY.routing,
    )
    tired = agent("tired", load=0.1, in_a_row=2)
    rested = agent("rested", load=0.9, in_a_row=0)
    offer = pick_agent(
        d, [tired, rested], negativity=0.9, relationship_manager=None, wellbeing=POLICY.wellbeing
    )
    assert offer.agent_id == "rested" and "intense" in offer.note
    calm = pick_agent(
        d, [tired, rested], negativity=0.1, relationship_manager=None, wellbeing=POLICY.wellbeing
    )
    assert calm.agent_id == "tired"  # lowest load when the conversation is not intense
    alone = pick_agent(d, [tired], negativity=0.9, relationship_manager=None, wellbeing=POLICY.wellbeing)
    assert alone.agent_id == "tired"  # nobody else is free: the customer is not left waiting
