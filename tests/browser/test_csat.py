"""The rating (CSAT) at the end of a conversation in Debian's Chromium: offered in the page's language
when an agent wraps the conversation up, or when the customer tells the bot they are done; given
with the keyboard, stored once with the comment's NLU."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from helixdesk.conversations.models import CsatRating
from helixdesk.db.session import make_engine, make_session_factory
from tests.browser.test_agent_console import (  # noqa: F401 (the fixtures are used by name)
    PASSWORD,
    browser,
    customer_page,
    desk,
    say,
)
from tests.console_login import sign_in as console_sign_in

NEGATIVE = {"anger", "sadness", "fear", "disgust"}


def stored_rating(site: dict, conversation_id: str) -> CsatRating | None:
    engine = make_engine(site["server"].env["HELIXDESK_DATABASE_URL"])
    try:
        with make_session_factory(engine)() as s:
            return s.scalar(select(CsatRating).where(CsatRating.conversation_id == conversation_id))
    finally:
        engine.dispose()


def conversation_of(page: Page) -> str:
    return page.evaluate("sessionStorage.getItem('hd.conversation')")


def test_an_agent_wraps_up_and_the_customer_rates_two_with_a_comment(desk, browser, tmp_path):  # noqa: F811
    base = desk["server"].base
    customer = customer_page(browser, base, "lang=zh-Hans")
    expect(customer.locator("#rate")).to_be_hidden()
    say(customer, "我想问一下信用卡账单的事")
    expect(customer.locator('.msg--bot[data-seq="2"]')).to_be_visible(timeout=20000)
    # Once the customer has written, they may rate at any time; nothing is offered yet.
    expect(customer.locator("#rate")).to_be_visible(timeout=10000)
    expect(customer.locator("#rate")).to_have_text("评价本次服务")
    expect(customer.locator("#rating")).to_be_hidden()
    customer.click("#person")
    expect(customer.locator("body")).to_have_attribute("data-state", "waiting_for_agent", timeout=10000)

    # An agent takes it and wraps it up (through the console's API: the console's pages have tests
    # of their own in test_agent_console.py).
    with httpx.Client(base_url=base, timeout=30) as agent:
        console_sign_in(agent, "agent.li", PASSWORD)
        agent.post("/console/api/presence", json={"presence": "online"}).raise_for_status()
        claimed = agent.post("/console/api/claim-next")
        assert claimed.status_code == 200, claimed.text
        conversation_id = claimed.json()["conversation_id"]
        assert conversation_id == conversation_of(customer)
        reply = "您好，账单一般在每月账单日后两天内出。"
        sent = agent.post(f"/console/api/conversations/{conversation_id}/messages", json={"text": reply})
        assert sent.status_code == 200, sent.text
        expect(customer.locator(".msg--agent").last).to_contain_text("账单日", timeout=10000)
        wrapped = agent.post(
            f"/console/api/conversations/{conversation_id}/wrap-up",
            json={"disposition": "answered", "resolution": "unresolved"},
        )
        assert wrapped.status_code == 200, wrapped.text

    # The conversation ends: the rating appears in the page's language, the first score focused.
    rating = customer.locator("#rating")
    expect(customer.locator("#banner")).to_contain_text("本次对话已结束", timeout=10000)
    expect(rating).to_be_visible(timeout=10000)
    expect(rating.locator("legend")).to_have_text("您对本次服务满意吗？")
    expect(customer.get_by_role("radio", name="2 不满意")).to_be_visible()
    expect(customer.get_by_role("radio", name="5 非常满意")).to_be_visible()
    expect(customer.get_by_label("还有什么想告诉我们的吗？（选填）")).to_be_visible()
    expect(customer.get_by_role("radio", name="1 非常不满意")).to_be_focused()
    customer.screenshot(path=str(tmp_path / "rating-offered.png"))

    # With the keyboard only: the arrow moves to 2, Tab reaches the comment, then the send button.
    customer.keyboard.press("ArrowRight")
    expect(customer.get_by_role("radio", name="2 不满意")).to_be_checked()
    customer.keyboard.press("Tab")
    expect(customer.locator("#rating-comment")).to_be_focused()
    customer.keyboard.type("等了太久，问题也没解决")
    customer.keyboard.press("Tab")
    expect(customer.get_by_role("button", name="提交评价")).to_be_focused()
    customer.keyboard.press("Enter")
    expect(customer.locator("#rating-done")).to_have_text("感谢您的评价！我们会认真改进。", timeout=10000)
    expect(customer.locator("#rating-form")).to_be_hidden()
    expect(customer.locator("#rate")).to_be_hidden()
    expect(customer.locator("#error")).to_be_hidden()
    customer.screenshot(path=str(tmp_path / "rating-given.png"))

    row = stored_rating(desk, conversation_of(customer))
    assert row is not None and (row.score, row.comment) == (2, "等了太久，问题也没解决")
    assert row.nlu["emotion"]["label"] in NEGATIVE, row.nlu["emotion"]

    # Reloaded, the page knows the conversation is rated and offers nothing again.
    customer.reload()
    expect(customer.locator("#rating-done")).to_have_text("感谢您的评价！我们会认真改进。", timeout=15000)
    expect(customer.locator("#rating-form")).to_be_hidden()


def test_an_english_page_offers_the_rating_in_english_when_the_customer_is_done(desk, browser):  # noqa: F811
    base = desk["server"].base
    customer = customer_page(browser, base, "lang=en")
    say(customer, "Thanks, that's all I needed. Bye!")
    rating = customer.locator("#rating")
    expect(rating).to_be_visible(timeout=20000)
    expect(customer.locator("body")).to_have_attribute("data-state", "bot")
    expect(rating.locator("legend")).to_have_text("How satisfied are you with this chat?")
    labels = rating.locator(".rating__label")
    expect(labels).to_have_text(["Very poor", "Poor", "Fair", "Good", "Excellent"])
    expect(customer.get_by_label("Anything else you'd like to tell us? (optional)")).to_be_visible()
    expect(customer.get_by_role("button", name="Send rating")).to_be_visible()

    # Sending with no score picked says so, and stores nothing.
    customer.get_by_role("button", name="Send rating").click()
    expect(customer.locator("#error")).to_have_text("Please choose a score first.")
    # Put aside, the offer stays away; the link brings it back.
    customer.get_by_role("button", name="Not now").click()
    expect(rating).to_be_hidden()
    expect(customer.locator("#error")).to_be_hidden()
    expect(customer.locator("#rate")).to_be_visible()
    expect(customer.locator("#rate")).to_have_text("Rate this chat")
    customer.click("#rate")
    expect(rating).to_be_visible()
    customer.get_by_role("radio", name="5 Excellent").check()
    customer.get_by_role("button", name="Send rating").click()
    expect(customer.locator("#rating-done")).to_have_text(
        "Thank you for your feedback! It helps us do better."
    )

    row = stored_rating(desk, conversation_of(customer))
    assert row is not None and (row.score, row.comment, row.nlu) == (5, "", {})
    # The page's language switched: the note follows.
    customer.select_option("#lang", "zh-Hant")
    expect(customer.locator("#rating-done")).to_have_text("感謝您的評價！我們會用心改進。")
