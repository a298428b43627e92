"""An incident campaign in Debian's Chromium, with `helixdesk serve` running the outreach process: an
operator opens an incident for the customers of one region, starts "notify the affected customers" by
SMS on the incidents page and watches the counts reach the customers of that region; the notice is
on the demo outbox page, in the customer's language, once. Quiet hours are off for the run (the test
may run at any hour), the rate is the pack's."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.incidents.regions import region_keys
from tests.browser.test_agent_console import PASSWORD, browser  # noqa: F401 (fixture)
from tests.browser.test_incidents import operator_page
from tests.serverproc import Server

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
EXPLANATION = {
    "zh-Hans": "上海地区网点系统故障，部分业务暂停办理。",
    "zh-Hant": "上海地區網點系統故障，部分業務暫停辦理。",
    "en": "Branch systems in Shanghai are down; some services are paused.",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, model_root):
    folder = tmp_path_factory.mktemp("campaign")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(30))
    bank = DemoBankConnector(session_factory=sessions)
    everyone = bank.list_customers(limit=1000)
    shanghai = [c for c in everyone if "上海" in region_keys(c.city)]
    StaffAccounts(sessions=sessions).create_user(
        username="ops.zhou", password=PASSWORD, display_name="周航", roles=["operator"], ui_language="en"
    )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_OUTREACH_WORKER": "true",
        "HELIXDESK_CAMPAIGN_QUIET_HOURS": "off",
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"base": server.base, "shanghai": shanghai, "others": [c for c in everyone if c not in shanghai]}
    server.stop()


def test_an_operator_notifies_the_affected_customers_and_the_sms_reaches_the_outbox(site, browser, tmp_path):  # noqa: F811
    shanghai, others = site["shanghai"], site["others"]
    assert shanghai and others
    violations: list[str] = []
    ops = operator_page(browser, site["base"], violations)
    ops.select_option("#inc-kind", "outage")
    for language, text in EXPLANATION.items():
        ops.fill(
            f"#inc-title-{language}",
            {"zh-Hans": "网点故障", "zh-Hant": "網點故障", "en": "Branch outage"}[language],
        )
        ops.fill(f"#inc-explanation-{language}", text)
    ops.fill("#inc-regions", "上海")
    started = (datetime.now(ZONE) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    ops.fill("#inc-started", started)
    ops.click("#inc-save")
    card = ops.locator(".camp", has_text="Branch outage")
    expect(card).to_contain_text("No customer notified yet")

    card.locator("select[name=channel]").select_option("sms")
    card.locator(".camp-start").click()
    card = ops.locator(".camp", has_text="Branch outage")
    expect(card).to_have_attribute("data-status", "running")
    # The counts refresh on the page while the outreach process sends.
    expect(card.locator('[data-count="sent"]')).to_have_text(str(len(shanghai)), timeout=30_000)
    expect(card.locator('[data-count="targeted"]')).to_have_text(str(len(shanghai)))
    expect(card.locator(".camp__status")).to_have_text("Done", timeout=15_000)
    ops.screenshot(path=str(tmp_path / "campaign.png"), full_page=True)

    customer = shanghai[0]
    expected = EXPLANATION[customer.preferred_language]
    outbox = browser.new_context().new_page()
    outbox.goto(f"{site['base']}/demo/outbox?customer={customer.ref}")
    expect(outbox.get_by_text(expected)).to_have_count(1)
    outbox.goto(f"{site['base']}/demo/outbox?customer={others[0].ref}")
    expect(outbox.locator("body")).not_to_contain_text(EXPLANATION[others[0].preferred_language])
    # The page in Chinese shows the counts in Chinese words.
    ops.goto(f"{site['base']}/console/incidents?lang=zh-Hans")
    card = ops.locator(".camp", has_text="网点故障")
    expect(card).to_contain_text("已完成")
    expect(card).to_contain_text("已发送")
    assert not [v for v in violations if re.search("Content Security Policy", v)]
