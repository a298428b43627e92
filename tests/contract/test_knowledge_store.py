"""Knowledge-base storage on SQLite and PostgreSQL: ingest, idempotent re-ingest, atomic replace,
all-or-nothing runs with stable error codes."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from helixdesk.knowledge.errors import (
    EmptyDocumentError,
    InvalidFaqError,
    KnowledgeSourceNotFoundError,
    UnsupportedFormatError,
)
from helixdesk.knowledge.ingest import ingest
from helixdesk.knowledge.models import KbChunk, KbDocument
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.nlu.embeddings import USE_DIM, embed
from tests.unit.knowledge.pdfgen import make_pdf

FAQ = """- id: card-declined-abroad
  intents: [card_declined]
  question:
    zh-Hans: 在国外刷卡被拒怎么办？
    en: My card was declined abroad. What should I do?
  answer:
    zh-Hans: 请在APP中开通境外支付。
    en: Switch on overseas payments in the app.
  alternatives:
    zh-Hans: [出国旅游刷不了卡]
    en: [my card doesn't work on holiday in Spain]
- id: branch-hours
  intents: [branch_info]
  question:
    zh-Hans: 网点几点开门？
    zh-Hant: 分行幾點開門？
    en: When are branches open?
  answer:
    zh-Hans: 各网点营业时间不同，请在APP查询。
    zh-Hant: 各分行營業時間不同，請在App查詢。
    en: Hours vary by branch; see the app.
"""


def _docs(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "faq.yaml").write_text(FAQ, encoding="utf-8")
    (folder / "fees.md").write_text(
        "# Fees\n\n## Transfers\n\nTransfers in the app are free of charge.\n\n## 境外取款\n\n境外取款可能收取手续费。\n",
        encoding="utf-8",
    )
    (folder / "hours.html").write_text(
        "<html><body><h1>Hours</h1><p>Self-service areas open longer.</p></body></html>", encoding="utf-8"
    )
    (folder / "notes.txt").write_text("Plain notes\n\nKeep your PIN secret.\n", encoding="utf-8")
    (folder / "guide.pdf").write_bytes(make_pdf([["Card guide", "Sign the back of your new card."]]))
    (folder / "ignored.bin").write_bytes(b"\x00\x01")  # not a supported extension: skipped in folders
    return folder


def _counts(sessions):
    with sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(KbDocument)),
            s.scalar(select(func.count()).select_from(KbChunk)),
        )


def test_every_format_ingests_with_embeddings_and_languages(sessions, tmp_path):
    folder = _docs(tmp_path)
    report = ingest(sessions, [folder], embed=embed)
    assert len(report.added) == 5 and not report.replaced
    with sessions() as s:
        kinds = {d.kind: d for d in s.scalars(select(KbDocument))}
        assert set(kinds) == {"faq", "markdown", "html", "text", "pdf"}
        faq_chunks = s.scalars(
            select(KbChunk).where(KbChunk.faq_id.is_not(None)).order_by(KbChunk.order)
        ).all()
        assert [c.faq_id for c in faq_chunks] == ["card-declined-abroad", "branch-hours"]
        assert faq_chunks[1].answers == {
            "zh-Hans": "各网点营业时间不同，请在APP查询。",
            "zh-Hant": "各分行營業時間不同，請在App查詢。",
            "en": "Hours vary by branch; see the app.",
        }
        assert faq_chunks[1].intents == ["branch_info"]
        # Alternative wordings are stored with the questions and embedded as question rows.
        assert faq_chunks[0].questions["alternatives"] == {
            "zh-Hans": ["出国旅游刷不了卡"],
            "en": ["my card doesn't work on holiday in Spain"],
        }
        assert faq_chunks[0].embedding_kinds == "qqqqaa"
        vectors = np.frombuffer(faq_chunks[1].embedding, dtype=np.float32).reshape(-1, USE_DIM)
        assert faq_chunks[1].embedding_kinds == "qqqaaa" and vectors.shape == (6, USE_DIM)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
        md = s.scalars(
            select(KbChunk).where(KbChunk.document_id == kinds["markdown"].id).order_by(KbChunk.order)
        )
        assert [(c.heading, c.language) for c in md] == [("Transfers", "en"), ("境外取款", "zh-Hans")]
        assert kinds["pdf"].title == "guide"
        assert len(kinds["faq"].sha256) == 64


def test_reingest_is_idempotent_and_a_changed_file_replaces_its_chunks(sessions, tmp_path):
    folder = _docs(tmp_path)
    ingest(sessions, [folder], embed=embed)
    before = _counts(sessions)
    again = ingest(sessions, [folder], embed=embed)
    assert not again.changed and len(again.unchanged) == 5 and again.chunks == 0
    assert _counts(sessions) == before
    (folder / "fees.md").write_text(
        "# Fees\n\n## Cards\n\nCard replacement may carry a fee.\n", encoding="utf-8"
    )
    changed = ingest(sessions, [folder], embed=embed)
    assert changed.replaced == [str((folder / "fees.md").resolve())]
    assert _counts(sessions) == (before[0], before[1] - 1)
    with sessions() as s:
        doc = s.scalar(select(KbDocument).where(KbDocument.kind == "markdown"))
        assert doc is not None
        assert [c.heading for c in doc.chunks] == ["Cards"]


@pytest.mark.parametrize(
    ("name", "content", "error", "code"),
    [
        ("bad.yaml", "- id: x\n  question: {en: Q}\n", InvalidFaqError, "kb_invalid_faq"),
        ("empty.md", "# \n\n", EmptyDocumentError, "kb_empty_document"),
        ("policy.docx", "binary", UnsupportedFormatError, "kb_unsupported_format"),
    ],
)
def test_a_bad_file_fails_the_whole_run_and_nothing_is_lost(sessions, tmp_path, name, content, error, code):
    folder = _docs(tmp_path)
    ingest(sessions, [folder], embed=embed)
    before = _counts(sessions)
    (folder / "fees.md").write_text("# Fees\n\nEverything changed.\n", encoding="utf-8")
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(error) as e:
        ingest(sessions, [folder, bad], embed=embed)
    assert e.value.code == code
    assert str(bad) in e.value.detail
    assert _counts(sessions) == before  # the changed fees.md was not written either
    with sessions() as s:
        assert "Everything changed." not in " ".join(s.scalars(select(KbChunk.text)))


def test_missing_source_has_a_stable_code(sessions, tmp_path):
    with pytest.raises(KnowledgeSourceNotFoundError) as e:
        ingest(sessions, [tmp_path / "nope.md"], embed=embed)
    assert e.value.code == "kb_source_not_found"


def test_knowledge_base_loads_from_the_store_and_cites_documents(sessions, tmp_path):
    ingest(sessions, [_docs(tmp_path)], embed=embed)
    kb = KnowledgeBase(sessions=sessions, embed=embed)
    assert kb.load() == 7
    hit = kb.search("分行幾點開門", language="zh-Hant", top_k=1)[0]
    assert hit.faq_id == "branch-hours"
    assert hit.answer == "各分行營業時間不同，請在App查詢。"
    fee = kb.search("do transfers in the app cost anything", language="en", top_k=1)[0]
    assert fee.faq_id is None
    assert fee.citation.kind == "markdown" and fee.citation.section == "Transfers"
    assert fee.answer == "Transfers in the app are free of charge."
    # zh-Hant asked, only zh-Hans stored: the text is converted, not invented.
    abroad = kb.search("在國外刷卡被拒", language="zh-Hant", top_k=1)[0]
    assert abroad.faq_id == "card-declined-abroad"
    assert abroad.answer == "請在APP中開通境外支付。"
    # Found through an alternative wording; what is shown is the entry's own question.
    holiday = kb.search("my card doesn't work on holiday", language="en", top_k=1)[0]
    assert holiday.faq_id == "card-declined-abroad"
    assert holiday.question == "My card was declined abroad. What should I do?"
    assert kb.refresh_if_changed() is False


def test_another_worker_sees_new_knowledge_without_a_restart(sessions, tmp_path):
    from helixdesk.knowledge.ingest import ingest_entry

    path = tmp_path / "faq.yaml"
    path.write_text(FAQ, encoding="utf-8")
    ingest(sessions, [path], embed=embed)
    serving = KnowledgeBase(sessions=sessions, embed=embed, refresh_seconds=1e-9)  # checks on every search
    frozen = KnowledgeBase(sessions=sessions, embed=embed, refresh_seconds=0)
    for kb in (serving, frozen):
        kb.load()
    question = "海外酒店预授权冻结的额度多久解冻？"
    answer = "酒店预授权一般在退房后7至30个工作日内解除。"
    # Another process (a supervisor approving an agent's insight) adds an entry.
    ingest_entry(
        sessions,
        source="agent-insight:x1",
        title="insight",
        faq_id="insight-x1",
        question=question,
        answer=answer,
        language="zh-Hans",
        embed=embed,
    )
    assert serving.search(question, language="zh-Hans", top_k=1)[0].answer == answer
    assert all(h.answer != answer for h in frozen.search(question, language="zh-Hans", top_k=3))
