"""The live compliance check in Debian's Chromium: an agent types 「这款理财保本保收益」 and, before
anything is sent, sees the words that break the rule, why, its source and a compliant alternative.
Sending it as it is needs a reason; the QA consumer (run by `helixdesk serve`) then stores the
finding with that reason and raises the supervisors' alert."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from helixdesk.auth.service import StaffAccounts
from helixdesk.quality.models import Alert, Finding
from tests.browser.test_agent_console import PASSWORD, browser, customer_page, say, sign_in
from tests.seeded import seeded_database
from tests.serverproc import Server
from tests.waiting import wait_for

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the Chromium fixture


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root):
    folder = tmp_path_factory.mktemp("compliance")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    staff = StaffAccounts(sessions=sessions)
    for username, name, roles in (("agent.qa", "周敏", ["agent"]), ("sup.qa", "钱主管", ["supervisor"])):
        staff.create_user(
            username=username, password=PASSWORD, display_name=name, roles=roles, languages=["zh"]
        )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"server": server, "url": url}
    server.stop()


def test_a_promise_of_returns_is_flagged_before_sending_and_sent_only_with_a_reason(desk, browser, tmp_path):
    base = desk["server"].base
    customer = customer_page(browser, base, "customer=C000003&lang=zh-Hans")
    say(customer, "我要转人工客服")
    expect(customer.locator("body")).to_have_attribute("data-state", "waiting_for_agent", timeout=20000)

    agent = sign_in(browser, base, "agent.qa", "zh-Hans")
    agent.locator("#queue tbody tr.queue__row button.claim").first.click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))
    conversation_id = agent.url.rsplit("/", 1)[-1]

    # The warning appears while typing, before anything is sent.
    agent.locator("#reply").press_sequentially("这款理财保本保收益", delay=20)
    panel = agent.locator("#qa-check")
    expect(panel).to_be_visible(timeout=10000)
    expect(panel.locator(".qa-check__title")).to_contain_text("合规提醒")
    finding = panel.locator('.qa-finding[data-rule="absolute_promise"]').first
    expect(panel.locator('.qa-finding[data-rule="missing_risk_disclosure"]')).to_be_visible()
    expect(finding.locator("mark")).to_have_text(["保本", "保收益"])
    expect(finding).to_contain_text("保证性")
    expect(finding).to_contain_text("广告法")
    expect(finding.locator(".qa-finding__alt")).to_contain_text("不保本、不保证收益")
    agent.screenshot(path=str(tmp_path / "warning.png"), full_page=True)

    # Sending it as it is, without a reason, is refused and nothing reaches the customer.
    agent.click("#send")
    expect(agent.locator("#flash")).to_contain_text("请修改，或填写原样发送的原因", timeout=10000)
    expect(customer.locator(".msg--agent")).to_have_count(0)

    # With a reason it goes, and the reason is kept with the finding the QA consumer stores.
    agent.fill("#qa-reason", "客户确认购买的是保本型存款产品")
    agent.click("#send")
    expect(customer.locator(".msg--agent .msg__bubble").last).to_contain_text("保本保收益", timeout=10000)
    expect(panel).to_be_hidden()

    engine = create_engine(desk["url"])
    sessions = sessionmaker(bind=engine)

    def stored():  # type: ignore[no-untyped-def]
        with sessions() as s:
            return s.scalar(
                select(Finding).where(
                    Finding.conversation_id == conversation_id, Finding.rule == "absolute_promise"
                )
            )

    found = wait_for(stored)
    assert found is not None, "the QA consumer did not score the conversation"
    assert found.override_reason == "客户确认购买的是保本型存款产品"
    assert found.evidence == "保本" and found.sender == "agent"
    with sessions() as s:
        alert = s.scalar(select(Alert).where(Alert.conversation_id == conversation_id))
    assert alert is not None and alert.kind == "absolute_promise"
    engine.dispose()

    # The compliant wording is one click away, and it passes the check.
    agent.locator("#reply").press_sequentially("放心，这款理财零风险", delay=20)
    expect(panel).to_be_visible(timeout=10000)
    panel.locator(".qa-finding__use").first.click()
    expect(agent.locator("#reply")).to_have_value(re.compile("不保本"))
    expect(panel).to_be_hidden(timeout=10000)
