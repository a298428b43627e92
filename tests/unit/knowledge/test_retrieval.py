"""Hybrid retrieval over the pack FAQ: paraphrases in zh-Hans, zh-Hant and en find the right entry."""

from __future__ import annotations

import pytest

from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.knowledge.ingest import ingest
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.nlu.embeddings import embed


@pytest.mark.parametrize(
    ("query", "language", "faq_id", "intent"),
    [
        ("我的卡在泰国刷不了，是不是要开什么功能", "zh-Hans", "card-declined-abroad", "card_declined"),
        ("钱包丢了，里面的银行卡要马上挂失", "zh-Hans", "card-lost-freeze", "card_lost_or_stolen"),
        ("忘了手机银行登录密码怎么办", "zh-Hans", "password-reset-login", "password_reset"),
        ("信用卡帳單可以分期嗎？", "zh-Hant", "installment-bill", "installment_inquiry"),
        ("收唔到短訊驗證碼", "zh-Hant", "otp-not-received", "verification_code_issue"),
        (
            "How do I turn on automatic payment of my credit card bill?",
            "en",
            "repay-autopay",
            "credit_card_repayment",
        ),
        (
            "someone called pretending to be the bank and asked for my SMS code",
            "en",
            "fraud-phishing-sms-call",
            "card_fraud_report",
        ),
        (
            "what details does the person abroad need to give me for a wire",
            "en",
            "remit-info-needed",
            "cross_border_remittance",
        ),
    ],
)
def test_paraphrases_find_the_right_faq(pack_kb, query, language, faq_id, intent):
    hits = pack_kb.search(query, language=language, top_k=3)  # ranking alone, no intent hint
    assert hits[0].faq_id == faq_id, [h.faq_id for h in hits]
    assert hits[0].language == language
    # Grounding is calibrated for the bot's call, which passes the NLU intent.
    answer = pack_kb.answer(query, language=language, intent=intent)
    assert answer.grounded, answer.confidence
    assert answer.best is not None and answer.best.faq_id == faq_id
    assert answer.text == hits[0].answer


def test_hits_carry_scores_citation_and_the_answer_in_the_requested_script(pack_kb):
    hits = pack_kb.search("在国外刷不了卡", language="zh-Hant", top_k=5)
    best = hits[0]
    assert best.faq_id == "card-declined-abroad"
    assert best.answer.startswith("請先在App")  # the FAQ's own zh-Hant text, verbatim
    assert best.citation.faq_id == "card-declined-abroad"
    assert best.citation.source == "pack:retail_bank/kb/faq.yaml"
    assert best.citation.kind == "faq"
    assert "FAQ card-declined-abroad" in best.citation.label()
    assert best.scores.bm25 > 0 and best.scores.dense > 0.5
    assert [h.scores.rerank for h in hits] == sorted((h.scores.rerank for h in hits), reverse=True)
    assert all(0.0 <= h.scores.confidence <= 1.0 for h in hits)
    assert len(hits) == 5


@pytest.mark.parametrize(
    ("query", "language", "faq_id"),
    [
        ("我想办一张信用卡", "zh-Hans", "card-apply-how"),
        ("上周申请的信用卡批下来没有", "zh-Hans", "card-apply-status"),
        ("how do I apply for a personal loan", "en", "loan-apply-how"),
        ("any news on the loan I applied for last week", "en", "loan-status"),
        ("分期手续费怎么收", "zh-Hans", "installment-fees"),
        ("分期可以提前还清吗", "zh-Hans", "installment-prepay"),
    ],
)
def test_sibling_entries_of_one_intent_are_told_apart_by_what_is_asked(pack_kb, query, language, faq_id):
    intent = pack_kb.search(query, language=language, top_k=1)[0].intents[0]
    answer = pack_kb.answer(query, language=language, intent=intent)
    assert answer.best is not None and answer.best.faq_id == faq_id, [h.faq_id for h in answer.hits]
    assert answer.grounded and answer.confidence == answer.best.scores.confidence


def test_intent_hint_breaks_a_tie_between_close_entries(pack_kb):
    query = "the same payment was taken twice from my card"
    hinted = pack_kb.search(query, language="en", intent="dispute_charge", top_k=1)
    assert hinted[0].faq_id == "dispute-double-charge"
    ranked = pack_kb.search(
        query, language="en", intent={"dispute_charge": 0.95, "merchant_refund": 0.02}, top_k=1
    )
    assert ranked[0].faq_id == "dispute-double-charge"


@pytest.mark.parametrize(
    ("query", "language"),
    [
        ("你们行长叫什么名字", "zh-Hans"),
        ("明天北京会下雨吗", "zh-Hans"),
        ("who will win the football world cup", "en"),
    ],
)
def test_unanswerable_questions_are_not_grounded(pack_kb, query, language):
    answer = pack_kb.answer(query, language=language)
    assert not answer.grounded
    assert answer.text is None and answer.citation is None
    assert answer.confidence < answer.threshold
    assert answer.hits  # the candidates are still there for an agent to see


def test_why_questions_get_the_graph_causes_and_solutions(pack_kb):
    answer = pack_kb.answer("为什么我在国外刷卡被拒绝了", language="zh-Hans", intent="card_declined")
    assert answer.grounded and answer.best is not None and answer.best.faq_id == "card-declined-abroad"
    assert [e.cause for e in answer.explanations] == ["境外交易功能未开通", "安全系统拦截了异常的境外交易"]
    assert "境外支付" in answer.explanations[0].solution
    plain = pack_kb.answer("在国外刷卡被拒", language="zh-Hans")
    assert plain.explanations == ()


def test_methods_rank_differently_but_all_return_hits(pack_kb):
    for method in ("bm25", "dense", "fused", "rerank"):
        hits = pack_kb.search("how do I reset my card PIN", language="en", top_k=3, method=method)
        assert len(hits) == 3
        assert hits[0].faq_id == "password-reset-pin", method


def test_a_second_instance_sees_a_new_ingest_after_refresh(pack_kb_url, tmp_path):
    sessions = make_session_factory(make_engine(pack_kb_url))
    worker = KnowledgeBase(sessions=sessions, embed=embed)
    assert worker.load() == 111
    assert worker.refresh_if_changed() is False
    doc = tmp_path / "coffee.md"
    doc.write_text(
        "# Branch lobby\n\nCoffee in the branch lobby is free for every visitor.\n", encoding="utf-8"
    )
    try:
        ingest(sessions, [doc], embed=embed)
        assert worker.refresh_if_changed() is True
        assert worker.size == 112
        hits = worker.search("is the coffee in the branch lobby free", language="en", top_k=1)
        assert hits[0].faq_id is None
        assert hits[0].citation.section == "Branch lobby"
        assert hits[0].citation.source == str(doc.resolve())
    finally:
        from sqlalchemy import delete

        from helixdesk.db.session import transaction
        from helixdesk.knowledge.models import KbDocument

        with transaction(sessions) as s:
            s.execute(delete(KbDocument).where(KbDocument.source == str(doc.resolve())))


def test_an_answer_on_the_intent_the_nlu_is_sure_of_comes_first():
    from helixdesk.knowledge.retrieval import _trusted_intent_first
    from helixdesk.knowledge.types import Citation, HitScores, KnowledgeHit

    def hit(faq: str, intent: str) -> KnowledgeHit:
        scores = HitScores(bm25=1.0, dense=0.5, fused=0.5, rerank=1.0, confidence=0.5)
        citation = Citation("FAQ", "faq.yaml", "faq", faq, faq, 1)
        return KnowledgeHit(1, faq, "zh-Hant", faq, faq, (intent,), scores, citation)

    hits = [hit("card-activate", "card_activation"), hit("card-declined", "card_declined")]
    # 「信用卡怎麼突然刷不過」: the NLU is sure it is a declined card.
    sure = _trusted_intent_first(hits, {"card_declined": 0.84, "card_activation": 0.1})
    assert [h.faq_id for h in sure] == ["card-declined", "card-activate"]
    # Unsure, or no answer on that intent: the ranking stands.
    assert _trusted_intent_first(hits, {"card_declined": 0.5, "card_activation": 0.4}) == hits
    assert _trusted_intent_first(hits, {"annual_fee": 0.95}) == hits
    assert _trusted_intent_first(hits, None) == hits
