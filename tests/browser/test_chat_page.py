"""The customer chat page in Debian's Chromium: type a message, see the reply live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.serverproc import Server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
def server(sqlite_url, tmp_path, server_env):
    srv = Server(
        {"HELIXDESK_DATABASE_URL": sqlite_url, **server_env},
        log=tmp_path / "server.log",
    ).start()
    yield srv
    srv.stop()


@pytest.fixture
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_customer_sends_a_message_and_sees_the_reply(server, page: Page, tmp_path):
    page.goto(f"{server.base}/?lang=zh-Hans")
    expect(page.locator("#status")).to_have_attribute("data-state", "online", timeout=15000)
    page.fill("#text", "你好，我想问一下信用卡的事")
    page.click("#send")
    customer = page.locator("#log .msg--customer .msg__bubble")
    expect(customer).to_contain_text("我想问一下信用卡的事")
    bot = page.locator('.msg--bot[data-seq="2"] .msg__bubble')
    expect(bot).to_contain_text("抱歉")
    page.screenshot(path=str(tmp_path / "chat.png"))

    # Reload: the same conversation comes back from the server, in order, nothing lost or doubled.
    page.reload()
    expect(page.locator('.msg--bot[data-seq="2"]')).to_have_count(1, timeout=15000)
    expect(page.locator("#log .msg--customer")).to_have_count(1)


def test_english_page(server, page: Page):
    page.goto(f"{server.base}/?lang=en")
    expect(page.locator("h1")).to_have_text("Online service")
    expect(page.locator("#status")).to_have_attribute("data-state", "online", timeout=15000)
    page.fill("#text", "hello, is anyone there?")
    page.keyboard.press("Enter")
    expect(page.locator('.msg--bot[data-seq="2"] .msg__bubble')).to_contain_text("How can I help you today?")


def test_a_message_typed_while_the_connection_is_down_is_sent_when_it_is_back(server, page: Page):
    page.goto(f"{server.base}/?lang=en")
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "online", timeout=15000)
    page.fill("#text", "hello, is anyone there?")
    page.keyboard.press("Enter")
    expect(page.locator('.msg--bot[data-seq="2"]')).to_have_count(1, timeout=30000)

    server.stop()  # the same port comes back below
    expect(status).to_have_attribute("data-state", "offline", timeout=15000)
    page.fill("#text", "I lost my card")
    page.keyboard.press("Enter")
    expect(page.locator("#text")).to_have_value("")  # taken, not left in the box or dropped
    expect(page.locator("#log .msg--customer")).to_have_count(1)

    server.start()
    expect(status).to_have_attribute("data-state", "online", timeout=40000)
    expect(page.locator("#log .msg--customer").last).to_contain_text("I lost my card", timeout=30000)
    expect(page.locator('.msg--bot[data-seq="4"]')).to_have_count(1, timeout=30000)
    page.reload()  # stored once, in order
    expect(page.locator('.msg--bot[data-seq="4"]')).to_have_count(1, timeout=15000)
    expect(page.locator("#log .msg--customer")).to_have_count(2)
