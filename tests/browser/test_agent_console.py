"""Customer and agent together in Debian's Chromium: a fraud report reaches the fraud team with its
summary and is answered live; a VIP's wealth question reaches their relationship manager, who
hands the conversation back to the bot."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.demo import DemoBankConnector
from tests.seeded import seeded_database
from tests.serverproc import Server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root):
    """A server on a fresh SQLite database with the demo bank, the FAQ and a few staff accounts."""
    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    bank = DemoBankConnector(session_factory=sessions)
    vip = next(
        c
        for c in (bank.get_customer(f"C{i:06d}") for i in range(1, 61))
        if c
        and c.value_tier in ("vip", "platinum")
        and c.preferred_language == "en"
        and c.relationship_manager
        # An elderly customer asking about investments goes to a senior agent first (suitability).
        and c.age(datetime.now(UTC).date()) < 60
    )
    # A customer who asks for a person reaches the general queue (not a relationship manager's).
    plain = next(
        c.ref
        for c in (bank.get_customer(f"C{i:06d}") for i in range(2, 61))
        if c and c.value_tier == "standard" and c.age(datetime.now(UTC).date()) < 60
    )
    staff = StaffAccounts(sessions=sessions)
    for username, name, roles, code in (
        ("fraud.zhao", "赵强", ["fraud"], None),
        ("agent.li", "李娜", ["agent"], None),
        ("rm.sun", "Sunny Sun", ["relationship_manager"], vip.relationship_manager),
        ("rm.other", "Other RM", ["relationship_manager"], "RM999"),
    ):
        staff.create_user(
            username=username,
            password=PASSWORD,
            display_name=name,
            roles=roles,
            languages=["zh", "en"],
            employee_code=code,
        )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"server": server, "vip": vip, "plain": plain}
    server.stop()


@pytest.fixture
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def sign_in(browser: Browser, base: str, username: str, lang: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{base}/console?lang={lang}")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("#queue")).to_be_visible()
    # The script must have bound its handlers before a control is used.
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    # Wait for the server to take the presence: a claim straight after needs it.
    if page.locator("#presence").input_value() != "online":
        with page.expect_response(lambda r: r.url.endswith("/console/api/presence") and r.ok):
            page.select_option("#presence", "online")
    expect(page.locator("#presence")).to_have_value("online")
    return page


def customer_page(browser: Browser, base: str, query: str) -> Page:
    page = browser.new_context(viewport={"width": 720, "height": 900}).new_page()
    page.goto(f"{base}/?{query}")
    expect(page.locator("#status")).to_have_attribute("data-state", "online", timeout=15000)
    return page


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.keyboard.press("Enter")


def test_a_fraud_report_in_chinese_reaches_the_fraud_team_and_is_answered_live(desk, browser, tmp_path):
    base = desk["server"].base
    # Someone calmer reported a scam SMS first: the frightened customer must still come out on top.
    calm = customer_page(browser, base, "lang=en")
    say(calm, "I got an SMS with a link saying my account is frozen, is this a scam?")
    expect(calm.locator("body")).to_have_attribute("data-state", "waiting_for_agent", timeout=20000)

    customer = customer_page(browser, base, "customer=C000001&lang=zh-Hans")
    say(customer, "我的卡被盗刷了！昨天晚上有一笔三千五的消费根本不是我操作的，我好害怕，怎么办")
    expect(customer.locator("#banner")).to_contain_text("正在为您转接人工客服", timeout=20000)
    expect(customer.locator(".msg--bot").last).to_contain_text("反欺诈专员")

    agent = sign_in(browser, base, "fraud.zhao", "zh-Hans")
    rows = agent.locator("#queue tbody tr.queue__row")
    expect(rows).to_have_count(2, timeout=10000)
    top = rows.first
    expect(top).to_contain_text("C000001")
    expect(top).to_contain_text("反欺诈")
    expect(top).to_contain_text("疑似欺诈")
    expect(top.locator(".prio")).to_have_text("100")
    agent.screenshot(path=str(tmp_path / "queue.png"))

    top.locator("button.claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))
    summary = agent.locator("#summary")
    expect(summary).to_contain_text("盗刷/欺诈")
    expect(summary).to_contain_text("未验证")
    expect(summary).to_contain_text("恐惧")
    expect(summary).to_contain_text("核实身份，冻结涉事卡片")
    expect(agent.locator("#profile")).to_contain_text("C000001")
    expect(agent.locator("#profile")).to_contain_text("****")
    expect(agent.locator("#suggestions li").first).to_be_visible(timeout=10000)
    expect(customer.locator(".msg--system").last).to_contain_text("赵强已加入对话")
    expect(customer.locator("#banner")).to_contain_text("人工客服为您服务中")

    agent.fill("#reply", "您好，我是反欺诈专员赵强。我已看到您的情况，现在先帮您冻结这张卡。")
    agent.click("#send")
    expect(customer.locator(".msg--agent .msg__bubble").last).to_contain_text(
        "现在先帮您冻结这张卡", timeout=10000
    )
    expect(customer.locator(".msg--agent .msg__who").last).to_have_text("赵强")

    say(customer, "好的，谢谢您")
    expect(agent.locator("#transcript .line--customer").last).to_contain_text("好的，谢谢您", timeout=10000)
    agent.screenshot(path=str(tmp_path / "conversation.png"), full_page=True)

    agent.select_option("#wrap-up select[name=disposition]", "card_frozen")
    agent.select_option("#wrap-up select[name=resolution]", "resolved")
    agent.click("#wrap-up button[type=submit]")
    expect(agent).to_have_url(re.compile(r"/console$"))
    expect(customer.locator("#banner")).to_contain_text("本次对话已结束", timeout=10000)
    expect(customer.locator("#restart")).to_be_visible()
    customer.screenshot(path=str(tmp_path / "customer.png"))


def test_a_vip_wealth_request_in_english_reaches_their_relationship_manager_who_hands_back(
    desk, browser, tmp_path
):
    base = desk["server"].base
    vip = desk["vip"]
    rm = sign_in(browser, base, "rm.sun", "en")
    other = sign_in(browser, base, "rm.other", "en")
    customer = customer_page(browser, base, f"customer={vip.ref}&lang=en")
    say(customer, "I'd like some advice on which investment funds I should put my savings into")
    expect(customer.locator("#banner")).to_contain_text("Connecting you", timeout=20000)

    row = rm.locator("#queue tbody tr.queue__row--offered")
    expect(row).to_have_count(1, timeout=10000)
    expect(row).to_contain_text(vip.ref)
    expect(row).to_contain_text("Offered to you")
    expect(row).to_contain_text("their relationship manager Sunny Sun is online")
    expect(row).to_contain_text("Relationship manager")
    # The other relationship manager sees the conversation, but it is not offered to them.
    expect(other.locator("#queue tbody tr.queue__row")).to_have_count(1, timeout=10000)
    expect(other.locator("#queue tbody tr.queue__row--offered")).to_have_count(0)

    rm.click("#claim-next")
    expect(rm).to_have_url(re.compile(r"/console/conversations/"))
    expect(rm.locator("#summary")).to_contain_text("high-value wealth request")
    expect(rm.locator("#summary")).to_contain_text("VIP" if vip.value_tier == "vip" else "Platinum")
    expect(customer.locator(".msg--system").last).to_contain_text(
        "Sunny Sun (relationship manager) has joined"
    )
    rm.fill("#reply", "Hello, I'm Sunny, your relationship manager. Let me look at your profile first.")
    rm.click("#send")
    expect(customer.locator(".msg--agent .msg__bubble").last).to_contain_text("your relationship manager")
    rm.screenshot(path=str(tmp_path / "rm.png"), full_page=True)

    rm.click("#hand-back")
    expect(rm).to_have_url(re.compile(r"/console$"))
    expect(customer.locator(".msg--bot").last).to_contain_text("I'm back to help", timeout=10000)
    expect(customer.locator("#banner")).to_be_hidden()
    expect(customer.locator("#person")).to_be_visible()
    say(customer, "Thanks. What's today's US dollar exchange rate?")
    # The answer (a lifecycle touch, msg--touch, may follow it).
    expect(customer.locator(".msg--bot:not(.msg--touch)").last).to_contain_text("USD", timeout=20000)
    expect(customer.locator("body")).to_have_attribute("data-state", "bot")
    customer.screenshot(path=str(tmp_path / "customer-en.png"))


def test_the_customer_can_ask_for_a_person_with_the_button(desk, browser):
    base = desk["server"].base
    agent = sign_in(browser, base, "agent.li", "zh-Hans")
    customer = customer_page(browser, base, "lang=zh-Hans")
    customer.click("#person")
    expect(customer.locator("#banner")).to_contain_text("正在为您转接人工客服", timeout=10000)
    expect(customer.locator("#person")).to_be_hidden()
    expect(agent.locator("#queue tbody tr.queue__row")).to_have_count(1, timeout=10000)
    expect(agent.locator("#queue tbody tr.queue__row").first).to_contain_text("客户要求转人工")


def test_a_message_sent_while_the_conversation_page_loads_still_reaches_the_agent(desk, browser):
    base = desk["server"].base
    agent = sign_in(browser, base, "agent.li", "en")
    customer = customer_page(browser, base, f"customer={desk['plain']}&lang=en")
    customer.click("#person")
    row = agent.locator("#queue tbody tr.queue__row", has_text=desk["plain"])
    expect(row).to_have_count(1, timeout=10000)
    # The conversation page's live stream is held back while the customer writes: the message is
    # stored after the page read the transcript and before its stream was open.
    held: list = []
    holding = [True]
    agent.route(
        "**/console/api/events?conversation=*",
        lambda route: held.append(route) if holding[0] else route.continue_(),
    )
    row.locator("button.claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))
    expect(customer.locator("#banner")).to_contain_text("with you", timeout=10000)
    say(customer, "My card was swallowed by the cash machine")
    expect(customer.locator("#log .msg--customer").last).to_contain_text("swallowed", timeout=10000)
    expect(agent.locator("#transcript .line--customer")).to_have_count(0)
    for _ in range(100):
        if held:
            break
        agent.wait_for_timeout(100)
    assert held, "the conversation page never opened its live stream"
    holding[0] = False
    for route in held:
        route.continue_()
    expect(agent.locator("#transcript .line--customer").last).to_contain_text("swallowed", timeout=10000)
    agent.context.close()
    customer.context.close()
