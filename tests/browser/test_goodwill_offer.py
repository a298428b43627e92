"""In Debian's Chromium, with `helixdesk serve` running the outreach consumer as it does by default:
a customer at risk complains in the chat, a person resolves the complaint in the console, and the
customer receives the bank's goodwill offer: the SMS in the demo outbox, the credit in their
account, and the supervisor's audit page shows the strategy's touch and credit, each once."""

from __future__ import annotations

import re
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.profile import ConversationSignals
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.strategies import load_strategies
from helixdesk.packs.loader import load_pack
from tests.browser.test_agent_console import PASSWORD, browser, customer_page, say, sign_in
from tests.seeded import seeded_database
from tests.serverproc import Server

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the shared Chromium fixture

STRATEGY = "goodwill_after_complaint"


def cny(bank: DemoBankConnector, ref: str) -> Decimal:
    return sum(
        (
            a.balance
            for a in bank.list_accounts(ref)
            if a.kind in ("current", "savings") and a.currency == "CNY"
        ),
        Decimal(0),
    )


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root):
    """A server on the demo bank with its outreach consumer, a senior agent and a supervisor, and a
    customer in the decline stage (at risk without a churn model)."""
    folder = tmp_path_factory.mktemp("goodwill")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    accounts = StaffAccounts(sessions=sessions)
    accounts.create_user(
        username="senior.qian",
        password=PASSWORD,
        display_name="钱敏",
        roles=["senior"],
        languages=["zh", "en"],
    )
    accounts.create_user(
        username="sup.liu",
        password=PASSWORD,
        display_name="刘洋",
        roles=["supervisor"],
        languages=["zh", "en"],
    )
    bank = DemoBankConnector(session_factory=sessions)
    pack = load_pack("retail_bank")
    profiles = CustomerProfiles(bank=bank, config=load_lifecycle_config(pack), model=None)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ref = next(
        f"C{i:06d}"
        for i in range(1, 61)
        if (view := profiles.read(f"C{i:06d}", ConversationSignals(), today=today)) is not None
        and view.snapshot.at_risk
    )
    strategy = load_strategies(pack).get(STRATEGY)
    assert strategy is not None and strategy.holdout == 0  # nobody is held out of it in the pack
    server = Server(
        {
            "HELIXDESK_DATABASE_URL": url,
            "HELIXDESK_MODEL_DIR": str(model_root),  # the run's NLU models; no churn model: the stage decides
            "HELIXDESK_LOG_LEVEL": "warning",
            "HELIXDESK_OUTREACH_WORKER": "true",
        },
        log=folder / "server.log",
    ).start()
    yield {"server": server, "ref": ref, "bank": bank, "texts": strategy.texts, "before": cny(bank, ref)}
    server.stop()
    engine.dispose()


def test_a_resolved_complaint_of_an_at_risk_customer_brings_the_goodwill_offer_once(desk, browser, tmp_path):
    base, ref = desk["server"].base, desk["ref"]
    customer = customer_page(browser, base, f"customer={ref}&lang=zh-Hans")
    say(customer, "我要投诉你们的服务，转账三天了还没到账")
    expect(customer.locator("#banner")).to_contain_text("正在为您转接人工客服", timeout=20000)

    agent = sign_in(browser, base, "senior.qian", "zh-Hans")
    row = agent.locator("#queue tbody tr.queue__row").filter(has_text=ref)
    expect(row).to_have_count(1, timeout=10000)
    row.locator("button.claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))
    conversation_id = agent.url.rsplit("/", 1)[-1]
    agent.fill("#reply", "非常抱歉给您带来不便，我已为您催办，款项今天到账。")
    agent.click("#send")
    expect(customer.locator(".msg--agent .msg__bubble").last).to_contain_text("今天到账", timeout=10000)
    agent.select_option("#wrap-up select[name=disposition]", "complaint_logged")
    agent.select_option("#wrap-up select[name=resolution]", "resolved")
    agent.click("#wrap-up button[type=submit]")
    expect(agent).to_have_url(re.compile(r"/console$"))

    # The SMS reaches the customer, in their conversation's language, with the strategy's words.
    outbox = browser.new_context().new_page()
    expected = desk["texts"]["zh-Hans"]
    deadline = time.monotonic() + 30
    while True:
        outbox.goto(f"{base}/demo/outbox?customer={ref}")
        if expected in outbox.content() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(outbox.locator("body")).to_contain_text(expected)
    expect(outbox.get_by_text(expected)).to_have_count(1)
    outbox.screenshot(path=str(tmp_path / "outbox.png"), full_page=True)
    assert cny(desk["bank"], ref) == desk["before"] + Decimal("50.00")

    # The supervisor's audit page: the touch and the credit, each once, by the strategy.
    boss = sign_in(browser, base, "sup.liu", "zh-Hans")
    for action in ("lifecycle.touch", "goodwill.credited"):
        boss.goto(f"{base}/console/audit?action={action}&target_id={conversation_id}")
        rows = boss.locator("table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(f"strategy:{STRATEGY}")
    boss.screenshot(path=str(tmp_path / "audit.png"), full_page=True)

    # A little later nothing more has come: the offer was given once.
    time.sleep(3)
    outbox.goto(f"{base}/demo/outbox?customer={ref}")
    expect(outbox.get_by_text(expected)).to_have_count(1)
    assert cny(desk["bank"], ref) == desk["before"] + Decimal("50.00")
