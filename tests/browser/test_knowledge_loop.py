"""The knowledge loop end to end, in Debian's Chromium, on a real server with its insight worker:
many customers ask something the bot cannot answer (the e-CNY wallet), agents answer them, the
proposal appears with its source conversations, the supervisor approves it, the bot answers the
next customers who ask it in other words, and the effect page shows the change."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from helixdesk.auth.service import StaffAccounts
from tests.browser.test_agent_console import PASSWORD, browser, customer_page  # noqa: F401
from tests.console_login import sign_in
from tests.seeded import seeded_database
from tests.serverproc import Server

pytestmark = pytest.mark.browser

# (what the customer asks, the language, what the agent replies)
ANSWER = {
    "zh-Hans": "数字人民币钱包可以在数字人民币App里选择“添加银行卡”，选择本行并按提示完成验证即可绑定；绑定后就能从银行卡充值到钱包。",
    "zh-Hant": "數字人民幣錢包可在數字人民幣App中選擇「添加銀行卡」，選擇本行並按提示完成驗證即可綁定；綁定後就能由銀行卡充值到錢包。",
    "en": "In the e-CNY app, choose 'Add bank card', pick our bank and follow the app's checks; once linked you can top up the wallet from the card.",
}
ASKED = [
    ("数字人民币钱包怎么绑定你们的银行卡", "zh-Hans"),
    ("数字人民币钱包充值不了怎么办", "zh-Hans"),
    ("数字人民币钱包能关联本行的储蓄卡吗", "zh-Hans"),
    ("數字人民幣錢包點樣綁定銀行卡", "zh-Hant"),
    ("數字人民幣錢包可以綁定貴行的卡嗎", "zh-Hant"),
    ("How do I top up an e-CNY wallet?", "en"),
]
PERSON = {"zh-Hans": "转人工", "zh-Hant": "我要真人客服", "en": "I want to talk to a person"}
# Asked after approval, in other words.
AGAIN = [
    ("我想把数字人民币钱包和你们银行的卡绑在一起，要怎么弄", "绑定"),
    ("數字人民幣錢包怎樣連結銀行卡？", "綁定"),
]


@pytest.fixture(scope="module")
def loop(tmp_path_factory, model_root):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("loop")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    staff = StaffAccounts(sessions=sessions)
    staff.create_user(
        username="agent.li", password=PASSWORD, display_name="李娜", roles=["agent"], languages=["zh", "en"]
    )
    staff.create_user(
        username="sup.liu", password=PASSWORD, display_name="刘洋", roles=["supervisor"], ui_language="en"
    )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_QUALITY_WORKER": "false",
        "HELIXDESK_INSIGHT_WORKER": "true",
    }
    server = Server(env, log=folder / "server.log").start()
    yield server
    server.stop()


def ask(base: str, text: str, *, then: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """A new customer asks `text` (and then `then`); returns the conversation and the bot's replies."""
    with httpx.Client(base_url=base, timeout=30) as c:
        conv = c.post("/api/v1/conversations", json={"channel": "web"}).json()
        c.headers["Authorization"] = f"Bearer {conv['token']}"
        replies = c.post(f"/api/v1/conversations/{conv['id']}/messages", json={"text": text}).json()[
            "replies"
        ]
        if then:
            c.post(f"/api/v1/conversations/{conv['id']}/messages", json={"text": then})
            c.post(f"/api/v1/conversations/{conv['id']}/handoff", json={})
        return conv["id"], replies


def until(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1.0)
    raise AssertionError(f"timed out waiting for {what}")


def test_unanswered_questions_become_knowledge_and_the_effect_shows(loop, browser, tmp_path):  # noqa: F811
    base = loop.base
    # Many customers ask what the bot does not know; each asks for a person.
    asked = []
    for text, language in ASKED:
        conversation, replies = ask(base, text, then=PERSON[language])
        assert all(r["kind"] != "answer" for r in replies), (text, replies)
        asked.append((conversation, language))
    # Agents answer them, and wrap up each as a knowledge gap.
    with httpx.Client(base_url=base, timeout=30) as agent:
        sign_in(agent, "agent.li", PASSWORD)
        assert agent.post("/console/api/presence", json={"presence": "online"}).status_code == 200
        answered = 0
        for _ in range(len(asked) * 2):
            r = agent.post("/console/api/claim-next")
            if r.status_code != 200:
                break
            conversation = r.json()["conversation_id"]
            language = dict(asked)[conversation]
            sent = agent.post(
                f"/console/api/conversations/{conversation}/messages", json={"text": ANSWER[language]}
            )
            assert sent.status_code == 200, sent.text
            done = agent.post(
                f"/console/api/conversations/{conversation}/wrap-up",
                json={"disposition": "knowledge_gap", "resolution": "resolved"},
            )
            assert done.status_code == 200, done.text
            answered += 1
        assert answered == len(asked)

    # The insight worker reads the conversations; the supervisor looks for proposals.
    with httpx.Client(base_url=base, timeout=60) as sup:
        sign_in(sup, "sup.liu", PASSWORD)

        def proposed() -> list[dict[str, Any]]:
            sup.post("/console/api/insight/proposals/refresh")
            return [
                p
                for p in sup.get("/console/api/insight/proposals").json()
                if any(
                    "数字人民币" in q or "數字人民幣" in q or "e-CNY" in q for q in p["questions"].values()
                )
            ]

        (proposal,) = until(proposed, "the proposal")
    assert proposal["volume"] >= 5
    assert {s["conversation_id"] for s in proposal["sources"]} <= {c for c, _ in asked}
    assert proposal["answers"]["zh-Hans"] == ANSWER["zh-Hans"]

    # The supervisor sees it with its sources and approves it.
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{base}/console/insight/proposals?lang=en")
    page.fill("#username", "sup.liu")
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page).to_have_url(re.compile("/console/insight/proposals"))
    card = page.locator(f'.proposal[data-proposal="{proposal["id"]}"]')
    expect(card).to_be_visible()
    expect(card.locator(".proposal__sources tbody tr")).to_have_count(len(proposal["sources"]))
    expect(card.locator('.proposal__lang[data-language="zh-Hans"] .proposal__answer')).to_have_value(
        ANSWER["zh-Hans"]
    )
    page.screenshot(path=str(tmp_path / "proposal.png"), full_page=True)
    card.locator("button.approve").click()
    expect(card).to_have_attribute("data-status", "approved")
    # A second approval (another supervisor, a double click) writes nothing.
    with httpx.Client(base_url=base, timeout=60) as sup:
        sign_in(sup, "sup.liu", PASSWORD)
        again = sup.post(f"/console/api/insight/proposals/{proposal['id']}/approve", json={})
        assert again.status_code == 422 and again.json()["error"]["code"] == "proposal_decided"
        assert len(sup.get("/console/api/insight/proposals?status=approved").json()[0]["draft_ids"]) == 3

    # The next customers ask in other words, and the bot answers from the new entry.
    chat = customer_page(browser, base, "lang=zh-Hans")
    chat.fill("#text", AGAIN[0][0])
    chat.click("#send")
    expect(chat.locator(".msg--bot:not(.msg--touch)").last).to_contain_text(AGAIN[0][1], timeout=15000)
    chat.screenshot(path=str(tmp_path / "answered.png"))
    for text, word in AGAIN[1:]:
        _, replies = ask(base, text)
        assert any(r["kind"] == "answer" and word in r["text"] for r in replies), replies
    _, replies = ask(base, "数字人民币钱包如何跟银行卡绑定")
    assert any(r["kind"] == "answer" for r in replies), replies

    # The effect page: before, the bot answered none; since, all.
    with httpx.Client(base_url=base, timeout=60) as sup:
        sign_in(sup, "sup.liu", PASSWORD)

        def measured() -> dict[str, Any] | None:
            effects = [
                e
                for e in sup.get("/console/api/insight/effects").json()
                if e["proposal"]["id"] == proposal["id"]
            ]
            return effects[0] if effects and effects[0]["after"]["questions"] >= 3 else None

        effect = until(measured, "the questions since approval")
    assert effect["before"]["answered"] == 0.0 and effect["before"]["questions"] >= 5
    assert effect["after"]["answered"] == 1.0
    assert effect["verdict"] == "working"
    page.goto(f"{base}/console/insight/effects?lang=en")
    row = page.locator(f'#effects tr[data-proposal="{proposal["id"]}"]')
    expect(row.locator(".verdict")).to_have_attribute("data-verdict", "working")
    expect(
        page.locator(f'#effects tr[data-proposal="{proposal["id"]}"][data-when="after"] .answered')
    ).to_have_text("100%")
    page.screenshot(path=str(tmp_path / "effect.png"), full_page=True)
