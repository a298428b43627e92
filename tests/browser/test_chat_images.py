"""A customer sends a screenshot of one of their own card payments on the chat page (Chromium).

A real `helixdesk serve` (trained NLU models, the seeded demo bank, real OCR). The customer, a demo
customer the page knows, types "这笔是什么", picks the screenshot with the keyboard through the
attach button, reads the one-time code from the demo outbox, and the bot shows that payment. The
screenshot is drawn in the test from the customer's transaction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from helixdesk.bank.demo import DemoBankConnector
from helixdesk.db.session import make_engine, make_session_factory
from tests.ocr_images import charge_lines, draw_lines
from tests.seeded import CustomerPicker, seeded_file
from tests.serverproc import Server, model_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
WAIT = 30_000  # ms; the OCR takes a second or two, the margin is for a loaded machine


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_file(tmp_path_factory, "browser-images")


@pytest.fixture(scope="module")
def server(database: str, model_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = model_server(
        "browser-images",
        database,
        model_root,
        tmp_path_factory.mktemp("server"),
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def pick(database: str) -> Iterator[CustomerPicker]:
    engine = make_engine(database)
    yield CustomerPicker(DemoBankConnector(session_factory=make_session_factory(engine)))
    engine.dispose()


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("HELIXDESK_SCREENSHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_screenshot_of_a_charge_is_explained_after_the_code(server, browser, pick, tmp_path):
    ref, txn = pick.with_card_debit("zh-Hans")
    context = browser.new_context(locale="zh-CN", viewport={"width": 480, "height": 900})
    page = context.new_page()
    page.goto(f"{server.base}/?lang=zh-Hans&customer={ref}")
    expect(page.locator("#status")).to_have_attribute("data-state", "online", timeout=WAIT)
    # The attach button is a labelled button, reached and pressed with the keyboard.
    attach = page.get_by_role("button", name="发送图片")
    expect(attach).to_be_visible()
    page.fill("#text", "这笔是什么")
    attach.focus()
    expect(attach).to_be_focused()  # Enter goes to the button, not to the text box (which sends)
    with page.expect_file_chooser() as chooser:
        attach.press("Enter")
    chooser.value.set_files(
        {"name": "charge.png", "mimeType": "image/png", "buffer": draw_lines(charge_lines(txn, "zh-Hans"))}
    )
    mine = page.locator(".msg--customer").last
    expect(mine).to_contain_text("这笔是什么", timeout=WAIT)
    expect(mine.locator(".msg__tag--image")).to_have_text("图片")
    expect(page.locator("#text")).to_have_value("")
    ask = page.locator(".msg--bot").last
    expect(ask).to_contain_text("验证码", timeout=WAIT)

    outbox = context.new_page()
    outbox.goto(f"{server.base}/demo/outbox?customer={ref}")
    body = outbox.locator("tr.notification td.body").first
    expect(body).to_be_visible(timeout=WAIT)
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", body.inner_text())
    assert code, "no one-time code in the outbox"
    outbox.close()

    page.fill("#text", code.group(1))
    page.keyboard.press("Enter")
    facts = page.locator(".msg--bot").last
    expect(facts).to_contain_text(txn.merchant, timeout=WAIT)
    expect(facts).to_contain_text(f"{-txn.amount:,.2f}")
    expect(facts).to_contain_text("认得这笔交易")
    page.screenshot(path=str(shots(tmp_path) / "chat-image-charge-zh.png"), full_page=True)
    context.close()


def test_the_attach_button_speaks_the_pages_language_and_refuses_a_non_image(server, browser):
    context = browser.new_context(locale="en-GB", viewport={"width": 480, "height": 900})
    page = context.new_page()
    page.goto(f"{server.base}/?lang=en")
    expect(page.locator("#status")).to_have_attribute("data-state", "online", timeout=WAIT)
    attach = page.get_by_role("button", name="Send an image")
    with page.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files({"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image at all"})
    expect(page.locator("#error")).to_have_text("Please send a PNG, JPEG or WebP image.", timeout=WAIT)
    page.select_option("#lang", "zh-Hant")
    expect(page.get_by_role("button", name="發送圖片")).to_be_visible()
    context.close()
