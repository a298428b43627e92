"""The knowledge workspace in Debian's Chromium: a knowledge editor uploads a PDF and reads its chunks,
uploads a FAQ and tries a question (the bot's answer, the candidates' scores, the citation), edits
the entry and sees the bot's answer change, expires it and sees it no longer answered, and rolls it
back; the pages raise no Content-Security-Policy violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from helixdesk.auth.service import StaffAccounts
from tests.browser.test_agent_console import PASSWORD, browser  # noqa: F401 (the fixture is used by name)
from tests.seeded import seeded_database
from tests.serverproc import Server
from tests.unit.knowledge.pdfgen import make_pdf

pytestmark = pytest.mark.browser

QUESTION = "Where can visitors park at the head office?"
ANSWER = "Visitor parking is at the north gate of the head office."
NEW_ANSWER = "Visitor parking has moved to the east car park."
FAQ = f"""- id: head-office-parking
  intents: [branch_info]
  question:
    zh-Hans: 总行访客在哪里停车？
    zh-Hant: 總行訪客在哪裡泊車？
    en: {QUESTION}
  answer:
    zh-Hans: 访客停车场在总行北门。
    zh-Hant: 訪客停車場在總行北門。
    en: {ANSWER}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_root):
    """A server on a fresh database with the pack's FAQ and one knowledge editor."""
    folder = tmp_path_factory.mktemp("knowledge")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url, customers=5)
    StaffAccounts(sessions=sessions).create_user(
        username="kb.lin",
        password=PASSWORD,
        display_name="林静",
        roles=["knowledge_editor"],
        ui_language="en",
    )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    srv = Server(env, log=folder / "server.log").start()
    yield srv
    srv.stop()


def editor_page(browser: Browser, base: str, violations: list[str]) -> Page:  # noqa: F811
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base}/console/knowledge?lang=en")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#username", "kb.lin")
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page).to_have_url(re.compile(r"/console/knowledge(\?|$)"))
    expect(page.locator("body")).to_have_attribute("data-kb-ready", "true")
    return page


def upload(page: Page, path) -> None:
    page.set_input_files("#kb-file", str(path))
    page.click("#kb-upload button[type=submit]")
    status = page.locator("#kb-upload-status")
    expect(status).to_have_attribute("data-state", re.compile("done|failed"), timeout=60000)
    expect(status).to_have_attribute("data-state", "done")
    expect(page.locator("#kb-upload-bar")).to_have_attribute("value", "100")


def ask(page: Page, question: str, language: str = "en") -> None:
    page.goto(page.url.split("/console")[0] + "/console/knowledge")
    expect(page.locator("body")).to_have_attribute("data-kb-ready", "true")
    page.fill("#try-text", question)
    page.select_option("#try-language", language)
    with page.expect_response(lambda r: r.url.endswith("/console/api/kb/try")):
        page.click("#kb-try button[type=submit]")
    expect(page.locator("#try-result")).to_be_visible()


def test_an_uploaded_pdf_is_chunked_with_each_chunks_language(server, browser, tmp_path):  # noqa: F811
    violations: list[str] = []
    page = editor_page(browser, server.base, violations)
    pdf = tmp_path / "card_terms.pdf"
    pdf.write_bytes(
        make_pdf(
            [
                ["Lost cards", "Report a lost card at once in the app or by phone."],
                ["挂失须知", "卡片丢失后请立即通过手机银行挂失。"],
            ]
        )
    )
    upload(page, pdf)
    expect(page.locator("#kb-upload-status")).to_contain_text("Done: 2 chunks written.")
    page.screenshot(path=str(tmp_path / "upload.png"))
    page.click("#kb-uploaded-document")
    expect(page.locator("h1")).to_have_text("card terms")
    rows = page.locator("#kb-chunks tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Lost cards")
    expect(rows.nth(0).locator(".chunk-language")).to_have_text("English")
    expect(rows.nth(1)).to_contain_text("挂失须知")
    expect(rows.nth(1).locator(".chunk-language")).to_have_text("Simplified Chinese")
    expect(rows.nth(1)).to_contain_text("Active")
    page.screenshot(path=str(tmp_path / "document.png"), full_page=True)

    # The same file again changes nothing.
    page.goto(f"{server.base}/console/knowledge")
    upload(page, pdf)
    expect(page.locator("#kb-upload-status")).to_contain_text("The file is unchanged")
    assert violations == []


def test_edit_expire_and_roll_back_an_entry_and_see_what_the_bot_answers(server, browser, tmp_path):  # noqa: F811
    violations: list[str] = []
    page = editor_page(browser, server.base, violations)
    faq = tmp_path / "office_faq.yaml"
    faq.write_text(FAQ, encoding="utf-8")
    upload(page, faq)

    ask(page, QUESTION)
    expect(page.locator("#try-answer")).to_have_text(ANSWER)
    expect(page.locator("#try-citation")).to_contain_text("office faq (FAQ head-office-parking)")
    first = page.locator("#try-candidates tbody tr").first
    expect(first).to_contain_text(QUESTION)
    expect(first.locator("td.confidence")).to_have_text(re.compile(r"^0\.\d{3}$"))
    expect(page.locator("#try-candidates tbody tr")).to_have_count(3)
    expect(page.locator("#try-meta")).to_contain_text("Threshold: 0.460")
    expect(page.locator("#try-meta")).to_contain_text("English")
    page.screenshot(path=str(tmp_path / "try.png"), full_page=True)

    # Edit the answer: the bot answers from it at once.
    first.locator("a").click()
    expect(page).to_have_url(re.compile(r"/console/knowledge/entries/\d+$"))
    expect(page.locator("body")).to_have_attribute("data-kb-ready", "true")
    entry_url = page.url
    page.fill("#answer-en", NEW_ANSWER)
    page.fill("#alternatives-en", "where do I park when visiting the head office\nhead office car park")
    page.click("#entry-form button[type=submit]")
    expect(page.locator("#entry-saved")).to_have_text("Saved; the bot answers from it now.")
    expect(page.locator("#entry-versions tbody tr").first).to_contain_text(
        "changed answer.en, alternatives.en"
    )
    expect(page.locator("#entry-versions tbody tr").first).to_contain_text("林静")
    ask(page, QUESTION)
    expect(page.locator("#try-answer")).to_have_text(NEW_ANSWER)

    # Expire it: from that moment it is no longer answered.
    page.goto(entry_url)
    expect(page.locator("body")).to_have_attribute("data-kb-ready", "true")
    page.fill("#entry-valid-until", "2020-01-01T00:00")
    page.click("#entry-validity button[type=submit]")
    expect(page.locator("#entry-status")).to_have_text("Expired")
    ask(page, QUESTION)
    expect(page.locator("#try-verdict")).to_have_attribute("data-grounded", "false")
    expect(page.locator("#try-answer")).to_be_hidden()
    expect(page.locator("#try-candidates")).not_to_contain_text(QUESTION)

    # Roll back to the uploaded version: the original answer, valid again, as a new version.
    page.goto(entry_url)
    expect(page.locator("body")).to_have_attribute("data-kb-ready", "true")
    versions = page.locator("#entry-versions tbody tr")
    expect(versions).to_have_count(3)
    versions.last.locator("button.rollback").click()
    expect(page.locator("#entry-versions tbody tr")).to_have_count(4)
    expect(page.locator("#entry-versions tbody tr").first).to_contain_text("restored version 1")
    expect(page.locator("#entry-status")).to_have_text("Active")
    expect(page.locator("#answer-en")).to_have_value(ANSWER)
    page.screenshot(path=str(tmp_path / "entry.png"), full_page=True)
    ask(page, QUESTION)
    expect(page.locator("#try-answer")).to_have_text(ANSWER)
    assert violations == []


def test_an_entry_shows_its_graph_in_the_pages_language(server, browser):  # noqa: F811
    violations: list[str] = []
    page = editor_page(browser, server.base, violations)
    page.goto(f"{server.base}/console/knowledge?lang=zh-Hant")
    ask(page, "為什麼我在國外刷不了卡？", "zh-Hant")
    expect(page.locator("#try-explanations li").first).to_be_visible()
    page.locator("#try-candidates tbody tr a").first.click()
    graph = page.locator("#entry-graph")
    expect(graph.locator(".kb__node--product").first).to_have_text("credit card")
    expect(graph.locator(".kb__node--solution").first).to_contain_text("解決方法")
    expect(page.locator("#entry-graph-title")).to_have_text("產品 → 問題 → 解決方法")
    assert violations == []
