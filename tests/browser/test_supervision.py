"""A supervisor's interventions in Debian's Chromium: reassigning a conversation to a senior, who sees
it in their console; a follow-up task raised by the bot when the customer comes back on another
channel, in the owner's console; a whisper shown live on the agent's page and never on the
customer's; a customer's rising anger raising an alert live on the supervisor's board, from which
the supervisor reassigns the conversation to a senior."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from helixdesk.auth.apikeys import ApiKeys
from helixdesk.auth.service import StaffAccounts
from helixdesk.db.session import make_engine, make_session_factory
from tests.browser.test_agent_console import (
    PASSWORD,
    browser,
    customer_page,
    desk,
    say,
    sign_in,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "desk"]  # the server and Chromium fixtures

SENIOR = "资深专员陈静"
WHISPER = "先核实身份，不要在对话里提卡号"


@pytest.fixture(scope="module")
def people(desk):
    """A supervisor and a senior agent, and an API key of the app channel (written straight into
    the server's database)."""
    engine = make_engine(desk["server"].env["HELIXDESK_DATABASE_URL"])
    sessions = make_session_factory(engine)
    staff = StaffAccounts(sessions=sessions)
    for username, name, roles in (
        ("sup.wang", "王主管", ["supervisor"]),
        ("senior.chen", SENIOR, ["senior"]),
    ):
        staff.create_user(
            username=username, password=PASSWORD, display_name=name, roles=roles, ui_language="zh-Hans"
        )
    _, app_key = ApiKeys(sessions=sessions).create(name="app back end", channel="app")
    engine.dispose()
    return {"app_key": app_key}


def fraud_report(chromium: Browser, base: str, ref: str) -> Page:
    customer = customer_page(chromium, base, f"customer={ref}&lang=zh-Hans")
    say(customer, "我的卡被盗刷了！昨天有一笔五千块的消费不是我做的")
    expect(customer.locator("#banner")).to_contain_text("正在为您转接人工客服", timeout=20000)
    return customer


def row_of(page: Page, ref: str):  # type: ignore[no-untyped-def]
    return page.locator("#queue tbody tr.queue__row", has_text=ref)


def claim(agent: Page, ref: str) -> None:
    row = row_of(agent, ref)
    expect(row).to_have_count(1, timeout=10000)
    row.locator("button.claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))


def test_a_supervisor_reassigns_a_conversation_to_a_senior_who_sees_it_in_their_console(
    desk,
    people,
    browser,
    tmp_path,
):
    base = desk["server"].base
    senior = sign_in(browser, base, "senior.chen", "zh-Hans")
    customer = fraud_report(browser, base, "C000021")
    expect(row_of(senior, "C000021")).to_have_count(0)  # the fraud queue is not the senior's

    boss = sign_in(browser, base, "sup.wang", "zh-Hans")
    boss.goto(f"{base}/console/supervisor")
    waiting = boss.locator("#board-queue tbody tr", has_text="C000021")
    expect(waiting).to_have_count(1, timeout=10000)
    waiting.locator("a.button").click()
    expect(boss).to_have_url(re.compile(r"/console/conversations/"))
    boss.select_option("#reassign-form select[name=queue]", "senior")
    boss.fill("#reassign-form input[name=note]", "客户情绪紧张，请资深同事处理")
    boss.click("#reassign-form button[type=submit]")

    row = row_of(senior, "C000021")
    expect(row).to_have_count(1, timeout=10000)
    expect(row).to_contain_text("资深客服")
    expect(row).to_contain_text("王主管")
    senior.screenshot(path=str(tmp_path / "senior-queue.png"))
    claim(senior, "C000021")
    expect(customer.locator(".msg--system").last).to_contain_text(f"{SENIOR}已加入对话", timeout=10000)


def test_a_follow_up_is_raised_when_the_customer_returns_on_another_channel(desk, people, browser, tmp_path):
    base = desk["server"].base
    owner = sign_in(browser, base, "senior.chen", "zh-Hans")
    agent = sign_in(browser, base, "fraud.zhao", "zh-Hans")
    fraud_report(browser, base, "C000022")
    claim(agent, "C000022")
    due = (datetime.now() + timedelta(days=2)).replace(hour=17, minute=30)
    agent.fill("#follow-up-form input[name=title]", "回电告知调查结果")
    agent.fill("#follow-up-form input[name=owner]", "senior.chen")
    agent.fill("#follow-up-form input[name=due_at]", due.strftime("%Y-%m-%dT%H:%M"))
    agent.click("#follow-up-form button[type=submit]")
    expect(agent.locator("#follow-up-list li")).to_contain_text("回电告知调查结果", timeout=10000)
    expect(agent.locator("#follow-up-list li")).to_contain_text(SENIOR)

    owner.reload()
    task = owner.locator("#follow-ups tbody tr.follow-up", has_text="C000022")
    expect(task).to_have_count(1, timeout=10000)
    expect(task).to_contain_text("回电告知调查结果")
    expect(task.locator("td").nth(4)).to_have_text("0")

    # The customer comes back in the bank's app: its back end talks to the REST API.
    key = {"X-Api-Key": people["app_key"]}
    conv = httpx.post(
        f"{base}/api/v1/conversations", json={"channel": "app", "customer_ref": "C000022"}, headers=key
    ).json()
    reply = httpx.post(
        f"{base}/api/v1/conversations/{conv['id']}/messages", json={"text": "你好"}, headers=key, timeout=30
    ).json()
    first = reply["replies"][0]["text"]
    assert SENIOR in first and "跟进" in first and f"{due.month}月{due.day}日 17:30" in first

    owner.reload()
    expect(task.locator("td").nth(4)).to_have_text("1", timeout=10000)
    owner.screenshot(path=str(tmp_path / "follow-ups.png"), full_page=True)
    task.locator("button.done").click()
    expect(owner.locator("#follow-ups tbody tr.follow-up")).to_have_count(0, timeout=10000)


def test_a_whisper_shows_live_on_the_agents_page_and_never_on_the_customers(desk, people, browser, tmp_path):
    base = desk["server"].base
    agent = sign_in(browser, base, "fraud.zhao", "zh-Hans")
    customer = fraud_report(browser, base, "C000023")
    claim(agent, "C000023")
    expect(agent.locator("#whispers")).to_be_hidden()

    boss = sign_in(browser, base, "sup.wang", "zh-Hans")
    boss.goto(agent.url)
    boss.fill("#whisper-form textarea[name=text]", WHISPER)
    boss.click("#whisper-form button[type=submit]")

    expect(agent.locator("#whispers")).to_be_visible(timeout=10000)
    expect(agent.locator("#whispers")).to_contain_text(WHISPER)
    expect(agent.locator("#whispers")).to_contain_text("王主管")
    expect(agent.locator("#transcript")).not_to_contain_text(WHISPER)
    agent.screenshot(path=str(tmp_path / "whisper.png"), full_page=True)
    agent.fill("#reply", "您好，我是反欺诈专员，现在为您处理")
    agent.click("#send")
    expect(customer.locator(".msg--agent .msg__bubble").last).to_contain_text("现在为您处理", timeout=10000)
    expect(customer.locator("body")).not_to_contain_text(WHISPER)
    customer.reload()
    expect(customer.locator(".msg--agent .msg__bubble").last).to_contain_text("现在为您处理", timeout=10000)
    expect(customer.locator("body")).not_to_contain_text(WHISPER)


def test_a_customers_anger_rises_the_board_shows_the_alert_live_and_the_supervisor_reassigns_to_a_senior(
    desk,
    people,
    browser,
    tmp_path,
):
    base = desk["server"].base
    senior = sign_in(browser, base, "senior.chen", "zh-Hans")
    boss = sign_in(browser, base, "sup.wang", "zh-Hans")
    boss.goto(f"{base}/console/supervisor")

    customer = customer_page(browser, base, "customer=C000024&lang=zh-Hans")
    for text in (
        "我的转账三天了还没到账，怎么回事？",
        "你们到底怎么回事！钱到现在还没到，气死我了！",
        "太过分了！！！我非常生气，马上给我解决！",
    ):
        answered = customer.locator(".msg--bot").count()
        say(customer, text)
        expect(customer.locator(".msg--bot")).not_to_have_count(answered, timeout=20000)
    expect(customer.locator("#banner")).to_contain_text("正在为您转接人工客服", timeout=20000)

    alert = boss.locator("#alerts tbody tr.alert", has_text="客户愤怒或恐惧情绪持续上升")
    expect(alert).to_have_count(1, timeout=30000)
    expect(alert).to_contain_text("高")
    boss.screenshot(path=str(tmp_path / "board-alert.png"), full_page=True)
    alert.locator("button.reassign").click()
    boss.select_option("#alerts tr.alert__form select[name=queue]", "senior")
    boss.fill("#alerts tr.alert__form input[name=note]", "客户非常愤怒，请资深同事接手")
    boss.click("#alerts tr.alert__form button[type=submit]")
    expect(alert).to_have_count(0, timeout=10000)

    row = row_of(senior, "C000024")
    expect(row).to_contain_text("资深客服", timeout=10000)
    expect(row).to_contain_text("王主管")
    claim(senior, "C000024")
    expect(customer.locator(".msg--system").last).to_contain_text(f"{SENIOR}已加入对话", timeout=10000)
