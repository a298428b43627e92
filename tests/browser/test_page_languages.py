"""Pages in the person's language, in Debian's Chromium.

The chat page opens in the customer's preferred language when it knows who they are, else in the
browser's (zh-TW/zh-HK/zh-Hant → Traditional, other zh → Simplified, anything else → English), and
the customer can switch. The agent console, signed in as a Chinese-speaking agent with a fraud
conversation open (summary, profile, accounts, cards, transactions, queue), shows no raw code: every
code the bank, the product and the pack use is collected from the code and none may appear as
visible text. An agent who is offline cannot claim, and is told why in their language.
Screenshots go to /tmp/helixdesk-pages/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.demo import DemoBankConnector
from tests.enums import all_codes
from tests.seeded import seeded_database
from tests.serverproc import Server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PASSWORD = "correct horse battery staple"
SHOTS = Path("/tmp/helixdesk-pages")
TITLES = {"zh-Hans": "在线客服", "zh-Hant": "線上客服", "en": "Online service"}
# Codes of one letter (gender F/M/X) cannot be told from text; every other code is looked for.
CODES = {c for c in all_codes() if len(c) > 1}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[dict[str, Any]]:
    """A server on a fresh SQLite database with the demo bank, the FAQ and Chinese-speaking staff."""
    folder = tmp_path_factory.mktemp("languages")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    bank = DemoBankConnector(session_factory=sessions)
    today = datetime.now(UTC).date()
    people = [c for c in (bank.get_customer(f"C{i:06d}") for i in range(1, 61)) if c is not None]

    def pick(language: str, *, rich: bool = False) -> str:
        for c in people:
            if c.preferred_language != language or c.age(today) >= 60:
                continue
            if rich and not (
                {a.kind for a in bank.list_accounts(c.ref)} >= {"savings", "credit"}
                and len(bank.list_transactions(c.ref, limit=10)) >= 5
            ):
                continue
            return c.ref
        raise AssertionError(f"no demo customer prefers {language}")

    customers = {
        "zh-Hans": pick("zh-Hans", rich=True),
        "zh-Hant": pick("zh-Hant", rich=True),
        "en": pick("en"),
    }
    staff = StaffAccounts(sessions=sessions)
    for username, name, roles, ui in (
        ("zhao.qiang", "赵强", ["fraud", "agent"], "zh-Hans"),
        ("chan.wing", "陳穎", ["fraud", "agent"], "zh-Hant"),
        ("wang.jun", "王军", ["supervisor"], "zh-Hans"),
    ):
        staff.create_user(
            username=username,
            password=PASSWORD,
            display_name=name,
            roles=roles,
            languages=["zh", "en"],
            ui_language=ui,
        )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    SHOTS.mkdir(exist_ok=True)
    yield {"base": server.base, "customers": customers}
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def chat(browser: Browser, base: str, locale: str, query: str = "") -> Page:
    page = browser.new_context(locale=locale, viewport={"width": 720, "height": 860}).new_page()
    page.goto(f"{base}/{query}")
    expect(page.locator("#status")).to_have_attribute("data-state", "online", timeout=15000)
    return page


def shown_language(page: Page) -> str:
    lang = page.evaluate("document.documentElement.lang")
    expect(page.locator("#lang")).to_have_value(lang)
    expect(page.locator("h1")).to_have_text(TITLES[lang])
    return str(lang)


@pytest.mark.parametrize(
    ("locale", "language"),
    [("zh-CN", "zh-Hans"), ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("en-US", "en"), ("fr-FR", "en")],
)
def test_the_chat_opens_in_the_browsers_language(site, browser, locale, language):
    page = chat(browser, site["base"], locale)
    assert shown_language(page) == language
    conversation = page.evaluate("sessionStorage.getItem('hd.conversation')")
    token = page.evaluate("sessionStorage.getItem('hd.token')")
    stored = page.request.get(
        f"{site['base']}/api/v1/conversations/{conversation}", headers={"Authorization": f"Bearer {token}"}
    )
    assert stored.json()["language"] == language  # the bot answers in it too
    page.screenshot(path=str(SHOTS / f"chat-{locale}.png"))
    page.context.close()


@pytest.mark.parametrize(
    ("preferred", "locale"), [("zh-Hant", "en-US"), ("en", "zh-CN"), ("zh-Hans", "zh-TW")]
)
def test_a_known_customer_gets_their_preferred_language_and_can_switch(site, browser, preferred, locale):
    ref = site["customers"][preferred]
    page = chat(browser, site["base"], locale, f"?customer={ref}")
    assert shown_language(page) == preferred
    other = "en" if preferred != "en" else "zh-Hant"
    page.select_option("#lang", other)
    expect(page.locator("h1")).to_have_text(TITLES[other])
    expect(page.locator("#person")).not_to_have_text(re.compile("^$"))
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "online", timeout=15000)
    assert shown_language(page) == other  # the customer's own choice stays for the visit
    page.context.close()


def visible_text(page: Page) -> str:
    """What a person can read: the page's text, its title, and the placeholders and labels of what
    is shown."""
    return str(
        page.evaluate(
            """() => {
              const seen = [document.title, document.body.innerText];
              for (const el of document.querySelectorAll("option, [placeholder], [title], [aria-label]")) {
                const box = (el.closest("select") || el).getBoundingClientRect();
                if (!box.width && !box.height) continue;
                seen.push(el.tagName === "OPTION" ? el.textContent : "");
                for (const a of ["placeholder", "title", "aria-label"]) if (el.getAttribute(a)) seen.push(el.getAttribute(a));
              }
              return seen.join("\\n");
            }"""
        )
    )


def raw_codes(page: Page) -> list[str]:
    tokens = re.findall(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*", visible_text(page))
    return sorted({t.rstrip(".-") for t in tokens} & CODES)


def sign_in(browser: Browser, base: str, username: str) -> Page:
    # The browser says English: the agent's own language setting must win.
    page = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("#queue")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")  # handlers are bound
    return page


def fraud_report(browser: Browser, base: str, ref: str, text: str) -> Page:
    """The customer reports a fraud and waits for a person: the bot hands over by itself (fraud
    queue), or the customer presses "talk to a person" (general queue) if the bot answers first."""
    customer = chat(browser, base, "zh-CN", f"?customer={ref}")
    customer.fill("#text", text)
    customer.keyboard.press("Enter")
    # The first message also starts the NLU process: on a busy machine that takes a while.
    expect(customer.locator(".msg--bot:not(.msg--welcome)").first).to_be_visible(timeout=90000)
    state = customer.locator("body")
    try:
        # A fraud report goes to the fraud queue on the first message; the page may take a moment
        # to show it (the button to ask for a person hides as it does).
        expect(state).to_have_attribute("data-state", "waiting_for_agent", timeout=10000)
    except AssertionError:
        customer.click("#person")
        expect(state).to_have_attribute("data-state", "waiting_for_agent", timeout=20000)
    return customer


@pytest.mark.parametrize(
    ("username", "language", "words"),
    [
        (
            "zhao.qiang",
            "zh-Hans",
            {
                "offline": "您当前离线",
                "why": "队列，优先级",
                "summary": "转人工原因",
                "profile": "客户画像",
            },
        ),
        (
            "chan.wing",
            "zh-Hant",
            {
                "offline": "您目前離線",
                "why": "隊列，優先級",
                "summary": "轉真人原因",
                "profile": "客戶資料",
            },
        ),
    ],
)
def test_the_console_of_a_chinese_speaking_agent_shows_no_raw_code(site, browser, username, language, words):
    base = site["base"]
    ref = site["customers"][language]
    customer = fraud_report(
        browser, base, ref, "我的卡被盗刷了！昨天晚上有一笔三千五的消费根本不是我操作的，我好害怕，怎么办"
    )
    agent = sign_in(browser, base, username)
    assert agent.evaluate("document.documentElement.lang") == language
    row = agent.locator("#queue tbody tr.queue__row", has_text=ref)
    expect(row).to_have_count(1, timeout=10000)
    expect(row.locator(".queue__why")).to_contain_text(words["why"])

    # Signed in, the agent is offline: the claim is refused, said in their language, nothing moves.
    expect(agent.locator("#presence")).to_have_value("offline")
    expect(agent.locator("#presence-note")).to_be_visible()
    row.locator("button.claim").click()
    expect(agent.locator("#flash")).to_contain_text(words["offline"])
    expect(row.locator("button.claim")).to_be_enabled()
    assert agent.url.endswith("/console")
    assert raw_codes(agent) == []
    agent.screenshot(path=str(SHOTS / f"console-queue-offline-{language}.png"), full_page=True)

    agent.select_option("#presence", "online")
    expect(agent.locator("#presence-note")).to_be_hidden()
    # What the conversation page's live stream passes on, kept for the message if a line is missing.
    agent.add_init_script(
        "window.__events = []; document.addEventListener('helix:event', (e) => window.__events.push("
        "[e.detail.type, e.detail.data.log_seq, (e.detail.data.message || {}).seq]));"
    )
    row.locator("button.claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))
    expect(agent.locator("#summary .summary")).to_contain_text(words["summary"])
    expect(agent.locator("#profile")).to_contain_text(ref)
    expect(agent.locator("#profile .products li")).not_to_have_count(0)
    expect(agent.locator("#profile .txns tr")).not_to_have_count(0)
    expect(agent.get_by_role("heading", name=words["profile"], exact=True)).to_be_visible()
    expect(agent.locator("#actions")).to_be_visible()
    # A message arriving live is labelled by the script with the same table.
    customer.fill("#text", "卡还在我手上")
    customer.keyboard.press("Enter")
    expect(customer.locator(".msg--customer").last).to_contain_text("卡还在我手上", timeout=30000)
    try:
        expect(agent.locator("#transcript .line--customer").last).to_contain_text(
            "卡还在我手上", timeout=20000
        )
    except AssertionError as missing:
        seen = agent.evaluate("[document.body.dataset.eventsAfter, window.__events]")
        raise AssertionError(
            f"the page's data as of event {seen[0]}; its stream passed {seen[1]}"
        ) from missing
    found = raw_codes(agent)
    agent.screenshot(path=str(SHOTS / f"console-conversation-{language}.png"), full_page=True)
    assert found == [], f"raw codes on the {language} conversation page: {found}"

    agent.goto(f"{base}/console")
    expect(agent.locator("#queue tbody tr.queue__row--active")).to_have_count(1)
    assert raw_codes(agent) == []
    agent.context.close()
    customer.context.close()


def test_the_supervisors_board_and_queue_show_no_raw_code(site, browser):
    base = site["base"]
    fraud_report(browser, base, site["customers"]["en"], "someone used my card, I did not make this payment")
    boss = sign_in(browser, base, "wang.jun")
    boss.goto(f"{base}/console/supervisor")
    expect(boss.locator("#agents tbody tr")).not_to_have_count(0)
    found = raw_codes(boss)
    boss.screenshot(path=str(SHOTS / "console-supervisor-zh-Hans.png"), full_page=True)
    assert found == [], f"raw codes on the supervisor board: {found}"
    boss.goto(f"{base}/console")
    expect(boss.locator("#queue tbody tr.queue__row")).not_to_have_count(0)
    assert raw_codes(boss) == []
    boss.context.close()


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_the_analytics_dashboard_shows_no_raw_code_or_key(site, browser, language):
    """The dashboard, its drill-down and the service-effect evaluation in each language: every word
    from console.yaml (no an_* key left), every code worded (in Chinese), the charts' descriptions
    and data tables included."""
    base = site["base"]
    boss = sign_in(browser, base, "wang.jun")
    for path in (
        "/console/analytics",
        "/console/analytics/conversations?metric=volume&outcome=all",
        "/console/analytics/effect?change=reason:fraud_risk",
    ):
        boss.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={language}")
        expect(boss.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=20000)
        assert boss.evaluate("document.documentElement.lang") == language
        expect(boss.locator("#an-error")).to_be_hidden()
        boss.locator("details.chart__data").evaluate_all("ds => ds.forEach(d => { d.open = true; })")
        text = visible_text(boss)
        assert re.findall(r"\ban_[a-z_]+", text) == [], path
        # English words are codes too (agent, online): codes are looked for on the Chinese pages.
        found = raw_codes(boss) if language != "en" else []
        boss.screenshot(
            path=str(SHOTS / f"console-analytics-{language}-{path.count('/')}.png"), full_page=True
        )
        assert found == [], f"raw codes on {path} in {language}: {found}"
    boss.context.close()


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_the_lifecycle_strategies_page_shows_no_raw_code_or_key(site, browser, language):
    """The strategies (kind, conditions, channels worded) and a strategy's effect (with nothing to
    compare yet) in each language: no lc_* key left, no code on the Chinese pages."""
    base = site["base"]
    boss = sign_in(browser, base, "wang.jun")
    boss.goto(f"{base}/console/lifecycle?strategy=retention_fee_waiver&lang={language}")
    expect(boss.locator("body")).to_have_attribute("data-lifecycle-ready", "true", timeout=20000)
    assert boss.evaluate("document.documentElement.lang") == language
    expect(boss.locator("#lc-error")).to_be_hidden()
    expect(boss.locator("#lc-strategies tbody tr")).not_to_have_count(0)
    text = visible_text(boss)
    assert re.findall(r"\b(?:lc|pf|an)_[a-z_]+", text) == []
    found = raw_codes(boss) if language != "en" else []
    boss.screenshot(path=str(SHOTS / f"console-lifecycle-{language}.png"), full_page=True)
    assert found == [], f"raw codes on the lifecycle page in {language}: {found}"
    boss.context.close()
