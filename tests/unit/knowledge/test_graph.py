"""The product -> problem -> solution graph: lookups, explanations, why/how cues, validation."""

from __future__ import annotations

import pytest

from helixdesk.knowledge.errors import InvalidGraphError
from helixdesk.knowledge.graph import KnowledgeGraph, is_why_how_question


@pytest.fixture(scope="module")
def graph() -> KnowledgeGraph:
    return KnowledgeGraph.from_pack("retail_bank")


def test_lookups_by_faq_and_by_product_problem(graph):
    assert len(graph.by_problem("credit_card", "declined_abroad")) == 2
    assert {r.faq for r in graph.by_problem("credit_card", "declined_abroad")} == {"card-declined-abroad"}
    assert graph.by_faq("card-declined-abroad") == graph.by_problem("credit_card", "declined_abroad")
    assert "credit_card" in graph.products()
    assert "declined_abroad" in graph.problems("credit_card")
    assert graph.by_faq("no-such-faq") == []


@pytest.mark.parametrize(
    ("language", "cause"),
    [
        ("en", "Overseas payments are switched off"),
        ("zh-Hans", "境外交易功能未开通"),
        ("zh-Hant", "海外交易功能未開通"),
    ],
)
def test_explain_in_the_customers_language(graph, language, cause):
    explanations = graph.explain("card-declined-abroad", language)
    assert explanations[0].cause == cause
    assert explanations[0].solution
    assert explanations[0].faq_id == "card-declined-abroad"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("为什么我的卡在国外刷不了", True),
        ("卡被拒了怎么办", True),
        ("為何轉帳失敗", True),
        ("Why was my card declined abroad?", True),
        ("how come my transfer failed", True),
        ("what should I do, my card was blocked", True),
        ("查余额", False),
        ("my balance please", False),
    ],
)
def test_why_how_cues(text, expected):
    assert is_why_how_question(text) is expected


def test_graph_records_must_link_to_existing_faq(tmp_path):
    path = tmp_path / "graph.yaml"
    path.write_text(
        "- product: card\n  problem: declined\n  cause: {en: c}\n  solution: {en: s}\n  faq: missing\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidGraphError) as e:
        KnowledgeGraph.from_file(path, faq_ids={"card-declined-abroad"})
    assert e.value.code == "kb_invalid_graph"
    assert "record 1" in e.value.detail
