"""The seed scenarios acted out on the customer chat page in Debian's Chromium.

One real `helixdesk serve` (trained NLU models, the seeded demo bank, the pack's FAQ, demo rates)
is shared by the module. Each test is a customer typing into the page, reading the one-time code
from the demo outbox page like a customer reads an SMS, and checking what the page shows and what
changed in the bank. Customers are picked from the seeded bank by what they hold.

Screenshots of every scenario are written to $HELIXDESK_SCREENSHOTS (default: the test's tmp dir).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from helixdesk.bank.connector import BankConnector
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.nlg.names import name_in
from helixdesk.simulation.numbers import expected_prepayment
from tests.seeded import CustomerPicker, seeded_file
from tests.serverproc import Server, model_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
LOCALES = {"zh-Hans": "zh-CN", "zh-Hant": "zh-HK", "en": "en-GB"}
WAIT = 20_000  # ms; a turn takes tens of milliseconds, the margin is for a loaded machine


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo bank (60 customers), the pack's FAQ and demo exchange rates in a fresh SQLite file."""
    return seeded_file(tmp_path_factory, "browser-scenarios")


@pytest.fixture(scope="module")
def server(database: str, model_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = model_server(
        "browser-scenarios",
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
def bank(database: str) -> Iterator[BankConnector]:
    engine = make_engine(database)
    yield DemoBankConnector(session_factory=make_session_factory(engine))
    engine.dispose()


@pytest.fixture(scope="module")
def pick(bank):
    return CustomerPicker(bank)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("HELIXDESK_SCREENSHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


class Customer:
    """A customer on the chat page: types messages, reads the replies, reads codes from the outbox."""

    def __init__(self, browser: Browser, server: Server, ref: str | None, lang: str, shots: Path) -> None:
        self.server = server
        self.ref = ref
        self.shots = shots
        self.context = browser.new_context(locale=LOCALES[lang], viewport={"width": 480, "height": 900})
        self.page: Page = self.context.new_page()
        query = f"lang={lang}" + (f"&customer={ref}" if ref else "")
        self.page.goto(f"{server.base}/?{query}")
        expect(self.page.locator("#status")).to_have_attribute("data-state", "online", timeout=WAIT)
        self.last_seq = 0

    def say(self, text: str) -> Locator:
        """Type `text` and send it with Enter; returns the bot's replies to it (they may still arrive)."""
        before = self.page.locator("#log .msg--customer").count()
        self.page.fill("#text", text)
        self.page.keyboard.press("Enter")
        mine = self.page.locator("#log .msg--customer")
        expect(mine).to_have_count(before + 1, timeout=WAIT)
        self.last_seq = int(mine.nth(before).get_attribute("data-seq") or 0)
        replies = self.replies()
        expect(replies.first).to_be_visible(timeout=WAIT)
        return replies

    def replies(self) -> Locator:
        """The bot's messages after the customer's last one, but its lifecycle touch (a suggestion
        some answers are followed by, `msg--touch`; tests/browser/test_bot_touch.py checks it)."""
        return self.page.locator(
            "xpath=//li[contains(@class, 'msg--bot') and not(contains(@class, 'msg--touch'))"
            f" and number(@data-seq) > {self.last_seq}]"
        )

    def code_from_outbox(self) -> str:
        """Open the demo outbox like a phone's SMS inbox and read the newest one-time code."""
        outbox = self.context.new_page()
        outbox.goto(f"{self.server.base}/demo/outbox?customer={self.ref}")
        body = outbox.locator("tr.notification td.body").first
        expect(body).to_be_visible(timeout=WAIT)
        found = re.search(r"(?<!\d)(\d{6})(?!\d)", body.inner_text())
        assert found, "no one-time code in the outbox"
        outbox.close()
        return found.group(1)

    def state(self) -> str:
        conversation = self.page.evaluate("sessionStorage.getItem('hd.conversation')")
        token = self.page.evaluate("sessionStorage.getItem('hd.token')")
        r = httpx.get(
            f"{self.server.base}/api/v1/conversations/{conversation}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return str(r.json()["state"])

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def customer(browser: Browser, server: Server, shots: Path) -> Iterator[Callable[..., Customer]]:
    opened: list[Customer] = []

    def open_page(ref: str | None, lang: str) -> Customer:
        c = Customer(browser, server, ref, lang, shots)
        opened.append(c)
        return c

    yield open_page
    for c in opened:
        c.close()


# ---- doubted charge -----------------------------------------------------------------------------


def test_doubted_charge_shows_the_facts_then_offers_a_dispute_or_an_agent(customer, bank, pick):
    ref, txn = pick.with_card_debit("zh-Hans")
    me = customer(ref, "zh-Hans")
    expect(me.say(f"我卡上有一笔{-txn.amount}元的扣款，我不认识，这是什么？")).to_contain_text(
        ["验证码"], timeout=WAIT
    )
    code = me.code_from_outbox()
    facts = me.say(code)
    expect(facts.first).to_contain_text("身份验证成功", timeout=WAIT)
    expect(facts.last).to_contain_text(txn.merchant, timeout=WAIT)
    expect(facts.last).to_contain_text(money(-txn.amount))
    expect(facts.last).to_contain_text("认得这笔交易")
    me.screenshot("doubted-charge-facts-zh")
    # The code the customer typed is not shown back in the thread.
    expect(me.page.locator("#log .msg--customer").last).not_to_contain_text(code)
    offer = me.say("还是不认识")
    expect(offer.last).to_contain_text("争议", timeout=WAIT)
    expect(offer.last).to_contain_text("人工")
    me.screenshot("doubted-charge-zh")
    handed = me.say("转人工")
    expect(handed.last).to_contain_text("反欺诈", timeout=WAIT)
    expect(me.page.locator("#status")).to_have_text("正在为您转接人工客服…", timeout=WAIT)
    assert me.state() == "waiting_for_agent"
    me.screenshot("doubted-charge-handoff-zh")
    # Coming back to the page: the same thread, still waiting for a person, and still no code.
    me.page.reload()
    expect(me.page.locator("#status")).to_have_text("正在为您转接人工客服…", timeout=WAIT)
    expect(me.page.locator("#log .msg--customer")).to_have_count(4, timeout=WAIT)
    expect(me.page.locator("#log")).not_to_contain_text(code)


# ---- lost card ------------------------------------------------------------------------------------


def test_lost_card_is_frozen_after_a_confirmation_with_no_one_time_code(customer, bank, pick):
    def en_with_cards(ref, c):
        return (
            c.preferred_language == "en"
            and len([x for x in bank.list_cards(ref) if x.status == "active"]) >= 2
        )

    ref = pick(en_with_cards)
    card = next(c for c in bank.list_cards(ref) if c.status == "active")
    me = customer(ref, "en")
    # A freeze protects the customer and can be undone: no one-time code (the fast lane's policy).
    which = me.say("I lost my card, please help")
    expect(which.last).to_contain_text("Which card", timeout=WAIT)
    expect(which.last).not_to_contain_text("one-time code")
    expect(which.last).to_contain_text(card.last4)
    confirm = me.say(card.last4)
    expect(confirm.last).to_contain_text(f"ending {card.last4}", timeout=WAIT)
    expect(confirm.last).to_contain_text("freeze")
    assert next(c for c in bank.list_cards(ref) if c.last4 == card.last4).status == "active"
    done = me.say("yes")
    expect(done.first).to_contain_text("now frozen", timeout=WAIT)
    expect(me.replies()).to_contain_text(["replacement"], timeout=WAIT)
    me.screenshot("lost-card-en")
    assert next(c for c in bank.list_cards(ref) if c.last4 == card.last4).status == "frozen"


# ---- installment prepayment -------------------------------------------------------------------------


def test_installment_prepayment_quote_is_exact_from_the_customers_plan(customer, bank, pick):
    ref, plan = pick.with_one_plan("zh-Hans")
    remaining, fee = expected_prepayment(plan)
    me = customer(ref, "zh-Hans")
    expect(me.say("分期后能否提前还款").last).to_contain_text("验证码", timeout=WAIT)
    quote = me.say(me.code_from_outbox()).last
    # The plan's name in the reply's language (its Chinese part).
    expect(quote).to_contain_text(name_in(plan.description, "zh-Hans"), timeout=WAIT)
    expect(quote).to_contain_text(f"剩余本金：{money(remaining)}元")
    expect(quote).to_contain_text(f"提前还款手续费：{money(fee)}元")
    expect(quote).to_contain_text(f"合计需还：{money(remaining + fee)}元")
    me.screenshot("installment-prepay-zh")


# ---- transfer trace and the return visit ------------------------------------------------------------


def test_transfer_not_arrived_is_traced_and_raised_first_on_a_new_conversation(customer, bank, pick):
    def pending_transfer(ref, c):
        transfers = bank.list_transfers(ref, limit=5)
        return c.preferred_language == "zh-Hans" and bool(transfers) and transfers[0].status == "pending"

    ref = pick(pending_transfer)
    transfer = bank.list_transfers(ref, limit=5)[0]
    me = customer(ref, "zh-Hans")
    expect(me.say("我前几天转的钱到现在还没到账，怎么回事").last).to_contain_text("验证码", timeout=WAIT)
    traced = me.say(me.code_from_outbox()).last
    expect(traced).to_contain_text(transfer.payee_name, timeout=WAIT)
    expect(traced).to_contain_text("处理中")
    me.screenshot("transfer-trace-zh")

    # Later, in a new browser session: a new conversation, and the open issue comes first.
    again = customer(ref, "zh-Hans")
    hello = again.say("你好")
    expect(hello.first).to_contain_text("您上次反映的转账未到账问题", timeout=WAIT)
    expect(hello.last).to_contain_text("您好")
    again.screenshot("return-visit-zh")
    # Raised once per conversation, not on every message.
    expect(again.say("你好").last).to_contain_text("您好", timeout=WAIT)
    expect(again.replies()).not_to_contain_text(["上次反映"])


# ---- knowledge base -----------------------------------------------------------------------------------


def test_a_faq_answer_shows_its_source(customer):
    me = customer(None, "zh-Hans")
    answer = me.say("开户需要带什么证件？").first
    expect(answer).to_contain_text("身份证", timeout=WAIT)
    expect(answer.locator(".msg__source")).to_have_text("来源：常见问题 · account-open-documents")
    me.screenshot("faq-answer-zh")
    # The page follows a change of language, the source line too.
    me.page.select_option("#lang", "en")
    expect(answer.locator(".msg__source")).to_have_text("Source: FAQ · account-open-documents")
    expect(answer.locator(".msg__who")).to_have_text("Assistant")


def test_a_traditional_chinese_question_gets_the_faq_text_in_traditional_script(customer):
    me = customer(None, "zh-Hant")
    expect(me.page.locator(".msg--welcome")).to_contain_text("請問有什麼可以幫您")
    answer = me.say("信用卡帳單可以分期嗎？").first
    expect(answer).to_contain_text("分期", timeout=WAIT)
    expect(answer.locator(".msg__who")).to_have_text("智能客服")
    expect(answer.locator(".msg__source")).to_have_text("來源：常見問題 · installment-bill")
    expect(answer.locator(".msg__text")).not_to_contain_text("账单")  # Simplified would be 账单
    me.screenshot("faq-answer-zh-hant")


def test_a_question_outside_the_knowledge_base_gets_an_honest_dont_know_and_an_agent(customer):
    me = customer(None, "en")
    reply = me.say("How much is the yearly rent for a safe deposit box at your branches?").last
    expect(reply).to_contain_text("couldn't find a reliable answer", timeout=WAIT)
    expect(reply).to_contain_text("connect you")
    expect(reply.locator(".msg__source")).to_have_count(0)
    me.screenshot("dont-know-en")
    expect(me.say("yes").last).to_be_visible(timeout=WAIT)
    expect(me.page.locator("#status")).to_have_text("Connecting you to a member of staff…", timeout=WAIT)
    assert me.state() == "waiting_for_agent"
    me.screenshot("dont-know-handoff-en")
