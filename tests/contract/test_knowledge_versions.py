"""The knowledge workspace on SQLite and PostgreSQL: uploads (idempotent, all-or-nothing), edits that
change what the bot answers, retirement, validity dates checked against the clock at query time,
versions with who/when/what in the audit log, and rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helixdesk.audit import AuditLog, AuditQuery, search
from helixdesk.db.session import reading
from helixdesk.knowledge.errors import UnsupportedFormatError
from helixdesk.knowledge.graph import KnowledgeGraph
from helixdesk.knowledge.models import KbChunk, KbDocument, KbEntryVersion
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.knowledge.uploads import UploadJobs
from helixdesk.knowledge.versions import Editor
from helixdesk.knowledge.workspace import (
    InvalidEntryError,
    InvalidValidityError,
    KnowledgeWorkspace,
    NotEditableError,
    VersionNotFoundError,
)
from helixdesk.nlu.embeddings import embed
from tests.unit.knowledge.pdfgen import make_pdf

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EDITOR = Editor("u-editor", "Zhou Editor", ip="10.0.0.9")

FAQ = """- id: card-declined-abroad
  intents: [card_declined]
  question:
    zh-Hans: 在国外刷卡被拒怎么办？
    en: My card was declined abroad. What should I do?
  answer:
    zh-Hans: 请在APP中开通境外支付。
    en: Switch on overseas payments in the app.
  alternatives:
    en: [my card doesn't work on holiday in Spain]
- id: branch-hours
  intents: [branch_info]
  question:
    zh-Hans: 网点几点开门？
    en: When are branches open?
  answer:
    zh-Hans: 各网点营业时间不同，请在APP查询。
    en: Opening hours vary by branch; see the branch finder in the app.
"""
BROKEN_FAQ = "- id: Not Kebab\n  question: {en: x}\n  answer: {en: y}\n"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kb(sessions, clock):
    # refresh_seconds=0: the knowledge base never reloads by itself, so a change seen in a search
    # was made visible by the workspace's reload, and expiry by the query-time check.
    return KnowledgeBase(sessions=sessions, embed=embed, refresh_seconds=0, clock=clock)


@pytest.fixture
def audit():
    return AuditLog(key=b"k" * 32)


@pytest.fixture
def workspace(sessions, kb, audit):
    return KnowledgeWorkspace(sessions=sessions, knowledge=kb, embed=embed, audit=audit)


@pytest.fixture
def jobs(sessions, kb, audit):
    uploads = UploadJobs(sessions=sessions, knowledge=kb, embed=embed, audit=audit)
    yield uploads
    uploads.close()


def _upload(jobs, name: str, data: bytes) -> dict:
    return jobs.wait(jobs.start(EDITOR, filename=name, data=data)["id"])


def _entry_id(sessions, faq_id: str) -> int:
    with reading(sessions) as s:
        found = s.scalar(select(KbChunk.id).where(KbChunk.faq_id == faq_id))
    assert found is not None
    return found


def _answer(kb, text: str = "What are the branch opening hours?") -> str | None:
    return kb.answer(text, language="en", intent="branch_info").text


def _counts(sessions) -> tuple[int, int, int]:
    with reading(sessions) as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t)) for t in (KbDocument, KbChunk, KbEntryVersion)
        )


def test_an_upload_is_ingested_in_the_background_versioned_and_audited(sessions, jobs, kb, audit):
    job = _upload(jobs, "faq.yaml", FAQ.encode())
    assert job["status"] == "done", job
    assert job["report"]["added"] == ["upload:faq.yaml"] and job["report"]["chunks"] == 2
    assert (job["stage"], job["done"], job["total"]) == ("store", 1, 1)
    assert _answer(kb) == "Opening hours vary by branch; see the branch finder in the app."
    with reading(sessions) as s:
        versions = s.scalars(select(KbEntryVersion).order_by(KbEntryVersion.entry_key)).all()
        assert [(v.entry_key, v.version, v.action, v.actor) for v in versions] == [
            ("branch-hours", 1, "upload", "u-editor"),
            ("card-declined-abroad", 1, "upload", "u-editor"),
        ]
        entries = search(s, AuditQuery(action="knowledge.document_uploaded", limit=10))
    assert len(entries) == 1 and entries[0].actor.id == "u-editor" and entries[0].actor.ip == "10.0.0.9"

    # The same bytes again: a no-op, nothing new stored, no new version.
    before = _counts(sessions)
    again = _upload(jobs, "faq.yaml", FAQ.encode())
    assert again["status"] == "done" and again["report"]["unchanged"] == ["upload:faq.yaml"]
    assert again["report"]["document_id"] == job["report"]["document_id"]
    assert _counts(sessions) == before


def test_a_bad_upload_fails_with_a_stable_code_and_loses_nothing(sessions, jobs, kb):
    _upload(jobs, "faq.yaml", FAQ.encode())
    before = _counts(sessions)
    broken = _upload(jobs, "faq.yaml", BROKEN_FAQ.encode())  # replacing a good file with a bad one
    assert broken["status"] == "failed" and broken["error"]["code"] == "kb_invalid_faq"
    assert "entry 1" in broken["error"]["detail"]
    pdf = _upload(jobs, "scan.pdf", b"%PDF-1.4 not really a pdf")
    assert pdf["status"] == "failed" and pdf["error"]["code"] == "kb_invalid_document"
    with pytest.raises(UnsupportedFormatError):
        jobs.start(EDITOR, filename="macro.docm", data=b"PK\x03\x04")
    assert _counts(sessions) == before
    assert _answer(kb) == "Opening hours vary by branch; see the branch finder in the app."


def test_a_pdf_upload_becomes_chunks_with_their_language(sessions, jobs, workspace):
    data = make_pdf(
        [["Card terms", "Report a lost card at once in the app."], ["挂失", "卡片丢失请立即挂失。"]]
    )
    job = _upload(jobs, "card-terms.pdf", data)
    assert job["status"] == "done", job
    doc = workspace.document(job["report"]["document_id"])
    assert doc["kind"] == "pdf"
    assert [(c["heading"], c["language"]) for c in doc["chunks"]] == [
        ("Card terms", "en"),
        ("挂失", "zh-Hans"),
    ]


def test_an_edit_changes_the_bots_answer_at_once_and_is_a_new_version(sessions, jobs, workspace, kb, audit):
    _upload(jobs, "faq.yaml", FAQ.encode())
    entry = _entry_id(sessions, "branch-hours")
    assert _answer(kb) == "Opening hours vary by branch; see the branch finder in the app."
    view = workspace.edit(
        EDITOR,
        entry,
        questions={"zh-Hans": "网点几点开门？", "en": "When are branches open?"},
        answers={"zh-Hans": "网点周一至周五9点开门。", "en": "Branches open at 9am on weekdays."},
        alternatives={"en": ["what time does the branch open", "branch opening hours"]},
    )
    assert _answer(kb) == "Branches open at 9am on weekdays."
    assert view["alternatives"] == {"en": ["what time does the branch open", "branch opening hours"]}
    latest = view["versions"][0]
    assert (latest["version"], latest["action"], latest["actor_name"]) == (2, "edit", "Zhou Editor")
    assert latest["summary"] == "changed answer.zh-Hans, answer.en, alternatives.en"
    with reading(sessions) as s:
        found = search(s, AuditQuery(action="knowledge.entry_edit", limit=10))
    assert [e.target.id for e in found] == [f"{view['document_id']}/branch-hours"]
    # The same content again is not a change: no new version.
    again = workspace.edit(
        EDITOR,
        entry,
        questions=view["questions"],
        answers=view["answers"],
        alternatives=view["alternatives"],
    )
    assert len(again["versions"]) == 2
    with pytest.raises(InvalidEntryError) as bad:
        workspace.edit(EDITOR, entry, questions={"fr": "Quand?"}, answers={"en": "x"})
    assert bad.value.code == "kb_invalid_entry"
    with pytest.raises(InvalidEntryError):
        workspace.edit(EDITOR, entry, questions={"en": "q"}, answers={"en": "  "})


def test_a_retired_entry_is_never_retrieved_until_it_is_restored(sessions, jobs, workspace, kb):
    _upload(jobs, "faq.yaml", FAQ.encode())
    entry = _entry_id(sessions, "branch-hours")
    view = workspace.retire(EDITOR, entry, reason="branches closed for the holiday")
    assert view["status"] == "retired"
    assert view["versions"][0]["summary"] == "retired: branches closed for the holiday"
    assert all(h.faq_id != "branch-hours" for h in kb.search("When are branches open?", top_k=10))
    assert _answer(kb) is None
    # Retirement survives a re-upload of a changed file (an editor's decision, not the file's).
    _upload(jobs, "faq.yaml", FAQ.replace("see the branch finder", "see the finder").encode())
    assert workspace.entry(_entry_id(sessions, "branch-hours"))["status"] == "retired"
    assert _answer(kb) is None
    restored = workspace.retire(EDITOR, _entry_id(sessions, "branch-hours"), retired=False)
    assert restored["status"] == "active" and restored["versions"][0]["action"] == "restore"
    assert _answer(kb) == "Opening hours vary by branch; see the finder in the app."


def test_validity_is_checked_against_the_clock_at_query_time(sessions, jobs, workspace, kb, clock):
    _upload(jobs, "faq.yaml", FAQ.encode())
    entry = _entry_id(sessions, "branch-hours")
    expiry = T0 + timedelta(hours=1)
    view = workspace.set_validity(EDITOR, entry, valid_from=None, valid_until=expiry)
    assert view["status"] == "active" and view["versions"][0]["action"] == "validity"
    loads = kb.load  # from here on nothing reloads: the expiry must take effect at query time
    kb.load = lambda: pytest.fail("the knowledge base reloaded")  # type: ignore[method-assign]
    assert _answer(kb) is not None
    clock.now = expiry - timedelta(seconds=1)
    assert _answer(kb) is not None
    clock.now = expiry
    assert _answer(kb) is None
    assert all(h.faq_id != "branch-hours" for h in kb.search("When are branches open?", top_k=10))
    assert workspace.entry(entry)["status"] == "expired"
    kb.load = loads  # type: ignore[method-assign]

    # Not yet valid: found only from its start.
    start = T0 + timedelta(days=2)
    workspace.set_validity(EDITOR, entry, valid_from=start, valid_until=None)
    clock.now = start - timedelta(minutes=1)
    assert _answer(kb) is None and workspace.entry(entry)["status"] == "not_yet_valid"
    clock.now = start
    assert _answer(kb) is not None
    with pytest.raises(InvalidValidityError):
        workspace.set_validity(EDITOR, entry, valid_from=start, valid_until=start)
    with pytest.raises(InvalidValidityError):
        workspace.set_validity(EDITOR, entry, valid_from=datetime(2027, 1, 1), valid_until=None)


def test_a_documents_validity_covers_its_entries(sessions, jobs, workspace, kb, clock):
    job = _upload(jobs, "faq.yaml", FAQ.encode())
    doc = workspace.set_document_validity(
        EDITOR, job["report"]["document_id"], valid_from=None, valid_until=T0 + timedelta(days=30)
    )
    assert doc["valid_until"] == (T0 + timedelta(days=30)).isoformat()
    assert _answer(kb) is not None
    clock.now = T0 + timedelta(days=31)
    assert _answer(kb) is None
    assert {c["status"] for c in workspace.document(doc["id"])["chunks"]} == {"expired"}
    entry = workspace.entry(_entry_id(sessions, "branch-hours"))
    assert entry["versions"][0]["summary"].startswith("document valid from - until 2026-12-31")


def test_rollback_restores_an_earlier_version_as_a_new_version(sessions, jobs, workspace, kb):
    _upload(jobs, "faq.yaml", FAQ.encode())
    entry = _entry_id(sessions, "branch-hours")
    for answer in ("Branches open at 9am.", "Branches open at 10am."):
        workspace.edit(EDITOR, entry, questions={"en": "When are branches open?"}, answers={"en": answer})
    workspace.retire(EDITOR, entry)
    assert _answer(kb) is None
    view = workspace.rollback(Editor("u-sup", "Liu Supervisor"), entry, version=2)
    assert _answer(kb) == "Branches open at 9am."
    assert [(v["version"], v["action"]) for v in view["versions"]] == [
        (5, "rollback"),
        (4, "retire"),
        (3, "edit"),
        (2, "edit"),
        (1, "upload"),
    ]
    assert view["versions"][0]["summary"] == "restored version 2" and view["status"] == "active"
    assert view["versions"][0]["actor"] == "u-sup"
    back = workspace.rollback(EDITOR, entry, version=1)
    assert back["questions"] == {"zh-Hans": "网点几点开门？", "en": "When are branches open?"}
    assert _answer(kb) == "Opening hours vary by branch; see the branch finder in the app."
    with pytest.raises(VersionNotFoundError):
        workspace.rollback(EDITOR, entry, version=99)


def test_sections_are_browsed_but_changed_by_uploading_again(sessions, jobs, workspace):
    job = _upload(jobs, "notes.md", b"# Notes\n\n## PIN\n\nKeep your PIN secret.\n")
    chunk = workspace.document(job["report"]["document_id"])["chunks"][0]
    assert (chunk["entry_key"], chunk["heading"], chunk["language"]) == ("section-1", "PIN", "en")
    with pytest.raises(NotEditableError):
        workspace.edit(EDITOR, chunk["id"], questions={"en": "q"}, answers={"en": "a"})
    # Retiring and dating a section works like an entry's.
    assert workspace.retire(EDITOR, chunk["id"])["status"] == "retired"


def test_an_entry_shows_its_product_problem_solution_graph(sessions, kb, audit):
    from helixdesk.knowledge.ingest import ingest

    ingest(sessions, [], embed=embed, pack="retail_bank")
    kb.graph = KnowledgeGraph.from_pack("retail_bank")
    ws = KnowledgeWorkspace(sessions=sessions, knowledge=kb, embed=embed, audit=audit)
    view = ws.entry(_entry_id(sessions, "card-declined-abroad"))
    assert view["graph"] and {r["product"] for r in view["graph"]} == {"credit_card"}
    assert all(r["cause"]["en"] and r["solution"]["zh-Hans"] for r in view["graph"])
