"""The knowledge workspace's console API: who may use it, CSRF, uploads with their job status and
stable error codes, browsing, edits the bot answers from at once (through the real NLU and
answer path), retirement, validity, rollback and the audit log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from helixdesk.audit import AuditQuery
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine
from helixdesk.edge.app import create_app
from tests.console_login import sign_in

PASSWORD = "correct horse battery staple"
FAQ = """- id: branch-hours
  intents: [branch_info]
  question:
    zh-Hans: 网点几点开门？
    zh-Hant: 分行幾點開門？
    en: When are branches open?
  answer:
    zh-Hans: 各网点营业时间不同，请在APP的网点查询中查看。
    zh-Hant: 各分行營業時間不同，請在App的分行查詢中查看。
    en: Opening hours vary by branch; see the branch finder in the app.
"""
QUESTION = {"text": "What time do your branches open?", "language": "en"}


@pytest.fixture
def client(sqlite_url, settings_for):
    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    engine.dispose()
    app = create_app(settings_for(sqlite_url, kb_upload_max_bytes=200_000))
    with TestClient(app, follow_redirects=False) as c:
        staff = c.app.state.container.staff
        for name, roles in (
            ("agent.a", ["agent"]),
            ("kb.a", ["knowledge_editor"]),
            ("sup.a", ["supervisor"]),
            ("admin.a", ["admin"]),
            ("qa.a", ["qa_reviewer"]),
        ):
            staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
        yield c


def _upload(client: TestClient, name: str, data: bytes) -> dict:
    r = client.post(
        "/console/api/kb/uploads",
        params={"filename": name},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running", "done") and job["filename"] == name
    client.app.state.container.kb_uploads.wait(job["id"])  # the job runs on its own thread
    status = client.get(f"/console/api/kb/uploads/{job['id']}")
    assert status.status_code == 200
    return status.json()


def _ask_the_bot(client: TestClient, text: str) -> str:
    conv = client.post("/api/v1/conversations", json={"channel": "web", "language": "en"}).json()
    r = client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {conv['token']}"},
    )
    assert r.status_code == 200, r.text
    return " ".join(m["text"] for m in r.json()["replies"])


def _branch_entry(client: TestClient) -> int:
    docs = client.get("/console/api/kb/documents").json()["documents"]
    doc = next(d for d in docs if d["source"] == "upload:faq.yaml")
    chunks = client.get(f"/console/api/kb/documents/{doc['id']}").json()["chunks"]
    return next(c["id"] for c in chunks if c["faq_id"] == "branch-hours")


@pytest.mark.parametrize("username", ["agent.a", "qa.a"])
def test_only_knowledge_editors_supervisors_and_admins_get_in(client, username):
    sign_in(client, username, PASSWORD)
    assert client.get("/console/api/kb/documents").json()["error"]["code"] == "forbidden"
    assert client.post("/console/api/kb/try", json=QUESTION).status_code == 403
    assert client.get("/console/knowledge").status_code == 403
    assert 'href="/console/knowledge"' not in client.get("/console").text


@pytest.mark.parametrize("username", ["kb.a", "sup.a", "admin.a"])
def test_editors_supervisors_and_admins_use_the_workspace(client, username):
    sign_in(client, username, PASSWORD)
    assert client.get("/console/api/kb/documents").status_code == 200
    page = client.get("/console/knowledge?lang=en")
    assert page.status_code == 200 and "Knowledge workspace" in page.text
    assert 'id="nav-knowledge"' in page.text


def test_unsafe_calls_need_the_csrf_token(client):
    sign_in(client, "kb.a", PASSWORD)
    del client.headers["X-CSRF-Token"]
    r = client.post("/console/api/kb/uploads", params={"filename": "faq.yaml"}, content=FAQ.encode())
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert client.get("/console/api/kb/documents").json()["documents"] == []


def test_bad_uploads_get_stable_codes_and_store_nothing(client):
    sign_in(client, "kb.a", PASSWORD)
    assert _upload(client, "faq.yaml", FAQ.encode())["status"] == "done"
    before = client.get("/console/api/kb/documents").json()
    bad = _upload(client, "faq.yaml", b"- id: Bad Id\n  question: {en: q}\n  answer: {en: a}\n")
    assert bad["status"] == "failed" and bad["error"]["code"] == "kb_invalid_faq"
    empty = client.post("/console/api/kb/uploads", params={"filename": "empty.md"}, content=b"")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "kb_empty_document"
    wrong = client.post("/console/api/kb/uploads", params={"filename": "terms.docx"}, content=b"PK")
    assert wrong.status_code == 422
    huge = client.post("/console/api/kb/uploads", params={"filename": "big.txt"}, content=b"x" * 200_001)
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    assert client.get("/console/api/kb/documents").json() == before
    assert client.get("/console/api/kb/uploads/nope").json()["error"]["code"] == "kb_upload_not_found"
    # Larger than the API's usual 64 KiB body limit: uploads have their own.
    big = ("\n\n".join(f"Paragraph {i}: keep your card and PIN apart." for i in range(2000))).encode()
    assert len(big) > 64 * 1024
    assert _upload(client, "notes.txt", big)["status"] == "done"


def test_edit_retire_validity_and_rollback_change_what_the_bot_answers(client):
    sign_in(client, "kb.a", PASSWORD)
    job = _upload(client, "faq.yaml", FAQ.encode())
    assert job["status"] == "done" and job["report"]["chunks"] == 1
    assert _upload(client, "faq.yaml", FAQ.encode())["report"]["unchanged"] == ["upload:faq.yaml"]
    entry = _branch_entry(client)

    tried = client.post("/console/api/kb/try", json=QUESTION).json()
    assert (
        tried["grounded"]
        and tried["answer"] == "Opening hours vary by branch; see the branch finder in the app."
    )
    assert tried["intent"]["name"] == "branch_info"
    best = tried["candidates"][0]
    assert best["faq_id"] == "branch-hours" and best["citation"]["source"] == "upload:faq.yaml"
    assert set(best["scores"]) == {"bm25", "dense", "fused", "rerank", "confidence"}
    assert tried["citation"]["label"] == "faq (FAQ branch-hours)"
    # Traditional Chinese in, Traditional Chinese out.
    zh = client.post("/console/api/kb/try", json={"text": "你哋分行幾點開門？"}).json()
    assert zh["language"] == "zh-Hant" and zh["answer"] == "各分行營業時間不同，請在App的分行查詢中查看。"

    view = client.get(f"/console/api/kb/entries/{entry}").json()
    edited = client.put(
        f"/console/api/kb/entries/{entry}",
        json={
            "questions": view["questions"],
            "answers": {**view["answers"], "en": "Branches open at 9am on weekdays."},
            "alternatives": {"en": ["what time does the branch open"]},
        },
    )
    assert (
        edited.status_code == 200
        and edited.json()["versions"][0]["summary"] == "changed answer.en, alternatives.en"
    )
    assert (
        client.post("/console/api/kb/try", json=QUESTION).json()["answer"]
        == "Branches open at 9am on weekdays."
    )
    # A customer in a conversation gets the new answer too: the bot and the workspace share one index.
    assert "Branches open at 9am on weekdays." in _ask_the_bot(client, QUESTION["text"])
    blank = client.put(
        f"/console/api/kb/entries/{entry}", json={"questions": {"en": " "}, "answers": {"en": "a"}}
    )
    assert blank.status_code == 422

    retired = client.post(f"/console/api/kb/entries/{entry}/retire", json={"reason": "closed"}).json()
    assert retired["status"] == "retired"
    assert client.post("/console/api/kb/try", json=QUESTION).json()["grounded"] is False
    assert "Branches open at 9am" not in _ask_the_bot(client, QUESTION["text"])
    assert client.post(f"/console/api/kb/entries/{entry}/restore").json()["status"] == "active"

    expired = client.put(
        f"/console/api/kb/entries/{entry}/validity",
        json={"valid_from": None, "valid_until": "2020-01-01T00:00:00Z"},
    ).json()
    assert expired["status"] == "expired"
    assert client.post("/console/api/kb/try", json=QUESTION).json()["grounded"] is False
    wrong_way = client.put(
        f"/console/api/kb/entries/{entry}/validity",
        json={"valid_from": "2030-01-01T00:00:00Z", "valid_until": "2029-01-01T00:00:00Z"},
    )
    assert wrong_way.status_code == 422 and wrong_way.json()["error"]["code"] == "kb_invalid_validity"

    back = client.post(f"/console/api/kb/entries/{entry}/rollback", json={"version": 1}).json()
    assert back["status"] == "active" and back["versions"][0]["summary"] == "restored version 1"
    assert [v["action"] for v in back["versions"]] == [
        "rollback",
        "validity",
        "restore",
        "retire",
        "edit",
        "upload",
    ]
    assert client.post("/console/api/kb/try", json=QUESTION).json()["answer"] == (
        "Opening hours vary by branch; see the branch finder in the app."
    )
    missing = client.post(f"/console/api/kb/entries/{entry}/rollback", json={"version": 42})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "kb_version_not_found"
    assert client.get("/console/api/kb/entries/999999").json()["error"]["code"] == "kb_entry_not_found"

    kb_user = client.app.state.container.staff.get("kb.a")
    found = client.app.state.container.audit_search.search(AuditQuery(actor_id=kb_user.id, limit=50))
    actions = [e.action for e in found if e.action.startswith("knowledge.")]
    assert actions == [
        "knowledge.entry_rollback",
        "knowledge.entry_validity",
        "knowledge.entry_restore",
        "knowledge.entry_retire",
        "knowledge.entry_edit",
        "knowledge.document_uploaded",
    ]
    pages = [f"/console/knowledge/entries/{entry}", f"/console/knowledge/documents/{back['document_id']}"]
    for path in pages:
        assert client.get(path + "?lang=zh-Hant").status_code == 200
