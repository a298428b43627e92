"""One history in the customer's chat page (Chromium): what they said on WeChat shows, labelled WeChat
and dated, above the web conversation they open next; older conversations come page by page.

A real `helixdesk serve` (trained NLU models, the seeded demo bank, the WeChat official account with
signed and encrypted callbacks). The customer's openid is bound to their customer number (binding
itself: tests/integration/test_wechat_channel.py); they write on WeChat, then open the chat page
as that demo customer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from helixdesk.channels.wechat.models import WeChatUser
from helixdesk.core.clock import utcnow
from helixdesk.db.session import make_engine, make_session_factory, transaction
from tests.seeded import seeded_file
from tests.serverproc import Server, model_server
from tests.wechat_sim import AES_KEY, APP_ID, TOKEN, WeChatServers, text_xml

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
WAIT = 30_000  # ms
REF = "C000002"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_file(tmp_path_factory, "browser-earlier", customers=12)


@pytest.fixture(scope="module")
def server(database: str, model_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = model_server(
        "browser-earlier",
        database,
        model_root,
        tmp_path_factory.mktemp("server"),
        HELIXDESK_WECHAT_APP_ID=APP_ID,
        HELIXDESK_WECHAT_TOKEN=TOKEN,
        HELIXDESK_WECHAT_ENCODING_AES_KEY=AES_KEY,
        HELIXDESK_WECHAT_REPLY_BUDGET_SECONDS="4.0",
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def _web_conversation(http: httpx.Client, text: str) -> None:
    """An earlier web conversation of the demo customer (as the chat page starts one), with `text`."""
    r = http.post("/api/v1/conversations", json={"channel": "web", "customer_ref": REF})
    assert r.status_code == 201, r.text
    conv = r.json()
    sent = http.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {conv['token']}"},
    )
    assert sent.status_code == 200, sent.text


def _on_wechat(http: httpx.Client, database: str, text: str) -> str:
    """The customer writes `text` from their bound WeChat openid; returns the bot's answer."""
    openid = "oLVPpjq" + uuid.uuid4().hex[:21]
    engine = make_engine(database)
    with transaction(make_session_factory(engine)) as s:
        s.add(WeChatUser(account="mp", openid=openid, customer_ref=REF, bound_at=utcnow()))
    engine.dispose()
    wechat = WeChatServers()
    sent = wechat.callback(text_xml(openid, text, str(uuid.uuid4().int % 10**19)))
    r = http.post(
        "/channels/wechat/mp",
        params=sent.params,
        content=sent.body.encode(),
        headers={"Content-Type": "text/xml"},
    )
    assert r.status_code == 200, r.text
    return wechat.open_reply(r.text)["Content"]


def test_the_wechat_conversation_shows_labelled_above_the_new_web_one(server, browser, database, tmp_path):
    with httpx.Client(base_url=server.base, timeout=30) as http:
        older = [f"第{i}次咨询：信用卡年费怎么收？" for i in range(5)]
        for text in older:
            _web_conversation(http, text)
        assert _on_wechat(http, database, "我的银行卡丢了怎么办")

    context = browser.new_context(locale="zh-CN", viewport={"width": 480, "height": 900})
    page = context.new_page()
    page.goto(f"{server.base}/?lang=zh-Hans&customer={REF}")
    expect(page.locator("#status")).to_have_attribute("data-state", "online", timeout=WAIT)

    section = page.locator("#earlier")
    expect(section).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("button", name="以往对话")).to_have_attribute("aria-expanded", "true")
    conversations = page.locator(".earlier__conversation")
    expect(conversations).to_have_count(5)  # a page: the WeChat one and the four latest web ones
    wechat = conversations.last  # the newest, just above the current conversation
    expect(wechat.locator(".earlier__channel")).to_have_text("微信")
    expect(wechat.locator(".earlier__date")).not_to_be_empty()
    expect(wechat.locator(".msg--customer .msg__text")).to_have_text("我的银行卡丢了怎么办")
    expect(wechat.locator(".msg--bot")).not_to_have_count(0)
    expect(wechat.locator(".msg--customer .msg__who")).to_have_text("我")
    # Above the new conversation: its greeting comes after the earlier section.
    above = wechat.bounding_box()
    below = page.locator("#log .msg--welcome").bounding_box()
    assert above is not None and below is not None and above["y"] + above["height"] <= below["y"]
    page.screenshot(path=str(tmp_path / "chat-earlier-zh.png"), full_page=True)

    # The next page, with the keyboard: the oldest web conversation comes above the others.
    more = page.get_by_role("button", name="显示更早的对话")
    more.focus()
    more.press("Enter")
    expect(conversations).to_have_count(6)
    expect(more).to_be_hidden()
    oldest = conversations.first
    expect(oldest.locator(".earlier__channel")).to_have_text("网页")
    expect(oldest.locator(".msg--customer .msg__text")).to_have_text(older[0])
    expect(oldest.locator(".earlier__title")).to_be_focused()

    # Folded away and opened again with the keyboard.
    toggle = page.get_by_role("button", name="以往对话")
    toggle.focus()
    toggle.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(wechat).to_be_hidden()
    toggle.press("Space")
    expect(wechat).to_be_visible()

    # In English the same history speaks English.
    page.select_option("#lang", "en")
    expect(page.get_by_role("button", name="Earlier conversations")).to_be_visible()
    expect(wechat.locator(".earlier__channel")).to_have_text("WeChat")
    expect(wechat.locator(".msg--customer .msg__who")).to_have_text("You")

    # A visitor has no earlier conversations: the section stays hidden.
    visitor = context.new_page()
    with visitor.expect_response(lambda r: "/earlier" in r.url, timeout=WAIT) as answered:
        visitor.goto(f"{server.base}/?lang=zh-Hans")
    assert answered.value.json() == {"conversations": [], "next_cursor": None}
    expect(visitor.locator("#earlier")).to_be_hidden()
    context.close()
