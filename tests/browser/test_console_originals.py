"""An agent opens the original of a customer's picture in the console, for a stated reason (Chromium).

A real `helixdesk serve` (trained NLU models, the seeded demo bank, real OCR) with a WeChat official
account whose API is a local fake. In Chinese: a WeChat customer sends a picture of an app's error
screen and asks for a person; the agent claims the conversation, reads the text read from the
picture and each message's channel (微信), opens the original with a reason and sees it in the page;
the opening is in the audit log. In English: a web chat customer's screenshot; a blank reason is
refused in the page's language, then the original is opened with the keyboard alone.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import APIRequestContext, Browser, Page, expect, sync_playwright
from sqlalchemy import select

from helixdesk.audit.models import AuditLogRow
from helixdesk.auth.service import StaffAccounts
from helixdesk.db.session import make_engine, make_session_factory, reading
from tests.ocr_images import draw_lines
from tests.seeded import seeded_database
from tests.serverproc import Server
from tests.wechat_sim import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    FakeWeChatApi,
    WeChatServers,
    fake_wechat_api,
    media_xml,
    text_xml,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PASSWORD = "correct horse battery staple"
WAIT = 30_000  # ms; the OCR takes a second or two, the margin is for a loaded machine


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeWeChatApi]:
    with fake_wechat_api() as fake:
        yield fake


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser-originals') / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    StaffAccounts(sessions=sessions).create_user(
        username="agent.wang", password=PASSWORD, display_name="王芳", roles=["agent"], languages=["zh", "en"]
    )
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def server(
    database: str, model_root: Path, fake_api: FakeWeChatApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = {
        "HELIXDESK_DATABASE_URL": database,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_SECRET_KEY": "browser-originals-" + "k" * 32,
        "HELIXDESK_WECHAT_APP_ID": APP_ID,
        "HELIXDESK_WECHAT_TOKEN": TOKEN,
        "HELIXDESK_WECHAT_ENCODING_AES_KEY": AES_KEY,
        "HELIXDESK_WECHAT_APP_SECRET": APP_SECRET,
        "HELIXDESK_WECHAT_API_BASE": fake_api.url,
    }
    srv = Server(env, log=tmp_path_factory.mktemp("server") / "server.log").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator[tuple[Browser, APIRequestContext]]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        http = p.request.new_context()
        yield chromium, http
        http.dispose()
        chromium.close()


def sign_in(browser: Browser, base: str, lang: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{base}/console?lang={lang}")
    page.fill("#username", "agent.wang")
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("#queue")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    if page.locator("#presence").input_value() != "online":
        with page.expect_response(lambda r: r.url.endswith("/console/api/presence") and r.ok):
            page.select_option("#presence", "online")
    return page


def claim_next(agent: Page) -> None:
    expect(agent.locator("#queue tbody tr.queue__row--waiting")).to_have_count(1, timeout=WAIT)
    agent.click("#claim-next")
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))
    expect(agent.locator("body")).to_have_attribute("data-ready", "true")


def audited_openings(database: str) -> list[AuditLogRow]:
    engine = make_engine(database)
    try:
        with reading(make_session_factory(engine)) as s:
            return list(s.scalars(select(AuditLogRow).where(AuditLogRow.action == "image.opened")))
    finally:
        engine.dispose()


def test_a_wechat_picture_is_opened_with_a_reason_and_shown_in_the_page(
    server, playwright_browser, fake_api, database, tmp_path
):
    browser, http = playwright_browser
    wechat = WeChatServers()
    openid = "oLVPpjq" + uuid.uuid4().hex[:21]
    shot = draw_lines(["登录失败", "错误代码：E1023", "请稍后重试"])
    fake_api.media["MEDIA_ERROR_SCREEN"] = shot
    for plain in (
        media_xml(openid, "image", "MEDIA_ERROR_SCREEN", "900001"),
        text_xml(openid, "我要转人工", "900002"),
    ):
        sent = wechat.callback(plain)
        r = http.post(
            f"{server.base}/channels/wechat/mp",
            params=sent.params,
            data=sent.body,
            headers={"Content-Type": "text/xml"},
            timeout=WAIT,
        )
        assert r.ok, r.text()

    agent = sign_in(browser, server.base, "zh-Hans")
    claim_next(agent)
    transcript = agent.locator("#transcript")
    picture = transcript.locator("li.line--customer", has=agent.locator(".line__image"))
    expect(picture.locator(".line__image")).to_contain_text("错误代码：E1023")
    # Every message says its channel: this conversation came over WeChat.
    channels = transcript.locator(".line__channel")
    expect(channels.first).to_have_text("· 微信")
    assert set(channels.all_inner_texts()) == {"· 微信"}
    assert channels.count() == transcript.locator("li.line").count()

    opener = picture.get_by_role("button", name="查看原图")
    expect(opener).to_have_attribute("aria-expanded", "false")
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    reason = picture.get_by_label("查看原图的原因（将记入审计日志）")
    expect(reason).to_be_focused()
    reason.fill("客户说错误页面看不清，核对原图")
    with agent.expect_response(lambda r: "/images/" in r.url) as opened:
        picture.get_by_role("button", name="打开", exact=True).click()
    assert opened.value.status == 200 and opened.value.headers["cache-control"] == "no-store"
    original = picture.get_by_role("img", name="客户发送的原图")
    expect(original).to_be_visible()
    assert original.evaluate("img => img.complete && img.naturalWidth") > 0  # the picture, decoded
    assert (original.get_attribute("src") or "").startswith("data:image/png;base64,")
    expect(picture.locator("figcaption")).to_have_text("已打开原图，已记入审计日志。")
    expect(picture.get_by_role("button", name="查看原图")).to_have_count(0)
    agent.screenshot(path=str(tmp_path / "console-original-zh.png"), full_page=True)

    (entry,) = [e for e in audited_openings(database) if e.reason == "客户说错误页面看不清，核对原图"]
    assert entry.actor_kind == "staff" and json.loads(entry.details)["content_type"] == "image/png"
    agent.context.close()


def test_a_blank_reason_is_refused_in_english_and_the_original_opens_with_the_keyboard(
    server, playwright_browser, database
):
    browser, http = playwright_browser
    created = http.post(f"{server.base}/api/v1/conversations", data={"channel": "web", "language": "en"})
    assert created.ok, created.text()
    conversation, token = created.json()["id"], created.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    shot = draw_lines(["Payment failed", "Error code: NET-502"])
    sent = http.post(
        f"{server.base}/api/v1/conversations/{conversation}/images",
        multipart={"image": {"name": "error.png", "mimeType": "image/png", "buffer": shot}},
        headers=auth,
        timeout=WAIT,
    )
    assert sent.ok, sent.text()
    handoff = http.post(f"{server.base}/api/v1/conversations/{conversation}/handoff", headers=auth)
    assert handoff.ok and handoff.json()["state"] == "waiting_for_agent", handoff.text()
    before = len(audited_openings(database))

    agent = sign_in(browser, server.base, "en")
    claim_next(agent)
    picture = agent.locator("#transcript li.line--customer", has=agent.locator(".line__image"))
    expect(picture.locator(".line__image")).to_contain_text("NET-502")
    expect(picture.locator(".line__channel")).to_have_text("· Web")
    opener = picture.get_by_role("button", name="Open the original")
    opener.focus()
    agent.keyboard.press("Enter")
    reason = picture.get_by_label("Why you need the original (recorded in the audit log)")
    expect(reason).to_be_focused()
    reason.fill("    ")  # four spaces: long enough for the form, not a reason
    agent.keyboard.press("Enter")
    expect(agent.locator("#flash")).to_have_text("Say why (at least 4 characters).")
    expect(picture.get_by_role("img")).to_have_count(0)
    assert len(audited_openings(database)) == before  # nothing opened, nothing audited

    reason.fill("checking the error code the customer reports")
    agent.keyboard.press("Enter")
    expect(picture.get_by_role("img", name="The original the customer sent")).to_be_visible()
    expect(picture.locator("figcaption")).to_have_text("Opened; recorded in the audit log.")
    expect(agent.locator("#flash")).to_be_hidden()
    assert len(audited_openings(database)) == before + 1
    agent.context.close()
