"""In Debian's Chromium: an agent opens a handed-over conversation of a demo customer and sees the
customer's profile, their lifecycle stage with its rule, and the churn risk with its reasons, each
value with its source, and what the bank's strategies suggest for the customer (in the page's
language; nothing while a fraud report is under way); a churn model is trained for the test (never
var/models)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from playwright.sync_api import expect

import helixdesk.edge
from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.lifecycle.artefacts import default_root, load_churn_model
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.customer import from_bank
from helixdesk.lifecycle.service import describe
from helixdesk.packs.loader import load_pack
from tests.browser.test_agent_console import PASSWORD, browser, customer_page, say, sign_in
from tests.browser.test_page_languages import raw_codes
from tests.churn_models import models_with_churn
from tests.seeded import seeded_database
from tests.serverproc import Server

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the shared Chromium fixture

STAGES_ZH = {"exploration": "考察期", "formation": "形成期", "stability": "稳定期", "decline": "退化期"}
BANDS_ZH = {"low": "低风险", "medium": "中风险", "high": "高风险"}
REF = "C000001"
CONSOLE_WORDS = yaml.safe_load(
    (Path(helixdesk.edge.__file__).parent / "i18n" / "console.yaml").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root):
    """A server on the demo bank with a fraud agent, and the lifecycle the panel must show for REF."""
    folder = tmp_path_factory.mktemp("profile")
    models = models_with_churn(model_root, folder / "models")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    staff = StaffAccounts(sessions=sessions)
    staff.create_user(
        username="fraud.zhao", password=PASSWORD, display_name="赵强", roles=["fraud"], languages=["zh", "en"]
    )
    staff.create_user(
        username="agent.wu", password=PASSWORD, display_name="吴敏", roles=["agent"], languages=["zh", "en"]
    )
    bank = DemoBankConnector(session_factory=sessions)
    # A customer the bank knows to hold funds: the fund news is for them, whatever their stage.
    holder = next(
        c.ref for c in (bank.get_customer(f"C{i:06d}") for i in range(2, 61)) if c and "funds" in c.interests
    )
    config = load_lifecycle_config(load_pack("retail_bank"))
    model, _report = load_churn_model(default_root(models, "retail_bank"))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the demo bank's day
    expected = describe(
        from_bank(DemoBankConnector(session_factory=sessions), REF, today=today), config, model
    )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(models),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"server": server, "expected": expected, "holder": holder}
    server.stop()


def test_the_agent_sees_the_profile_the_stage_and_the_churn_risk_with_its_reasons(desk, browser, tmp_path):
    base = desk["server"].base
    expected = desk["expected"]
    customer = customer_page(browser, base, f"customer={REF}&lang=zh-Hans")
    say(customer, "我的卡被盗刷了！有一笔消费不是我操作的")
    expect(customer.locator("#banner")).to_contain_text("正在为您转接人工客服", timeout=20000)

    agent = sign_in(browser, base, "fraud.zhao", "zh-Hans")
    row = agent.locator("#queue tbody tr.queue__row").first
    expect(row).to_contain_text(REF, timeout=10000)
    row.locator("button.claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))

    panel = agent.locator("#lifecycle")
    expect(panel).to_have_attribute("data-state", "ready", timeout=10000)
    expect(panel.get_by_role("heading", name="客户画像与生命周期")).to_be_visible()

    stage = agent.locator("#lifecycle-stage")
    expect(stage).to_have_attribute("data-stage", expected["stage"]["stage"])
    expect(stage).to_contain_text(STAGES_ZH[expected["stage"]["stage"]])
    expect(stage).to_contain_text("依据规则")
    # The rule's explanation is shown in the page's language; the English one is kept with it.
    expect(stage).to_have_attribute("data-explanation", expected["stage"]["explanation"])
    expect(stage.locator(".pf-why")).to_have_text(expected["stage"]["explanation_i18n"]["zh-Hans"])
    expect(stage).not_to_contain_text(expected["stage"]["explanation"])

    risk = expected["churn_risk"]
    churn = agent.locator("#lifecycle-churn")
    expect(churn).to_have_attribute("data-band", risk["band"])
    # The band in words, not only a colour, and the probability as a percentage.
    expect(churn.locator(".pf-band")).to_have_text(BANDS_ZH[risk["band"]])
    expect(churn).to_contain_text(f"概率 {risk['probability'] * 100:.1f}%")
    reasons = agent.locator("#lifecycle-reasons li")
    expect(reasons).to_have_count(len(risk["reasons"]))
    first = risk["reasons"][0]
    expect(reasons.first).to_contain_text("提高风险" if first["direction"] == "raises" else "降低风险")
    expect(reasons.first).not_to_contain_text(first["feature"])  # worded, not the feature's code

    # A fraud report is under way in this conversation: nothing is suggested, and the panel says why.
    recs = agent.locator("#lifecycle-recs")
    expect(recs.get_by_role("heading", name="为该客户推荐")).to_be_visible()
    expect(recs).to_have_attribute("data-blocked", "true")
    expect(agent.locator("#lifecycle-recs-note")).to_have_text(
        CONSOLE_WORDS["pf_recs_blocked_fraud"]["zh-Hans"]
    )
    expect(agent.locator("#lifecycle-recs-list")).to_have_count(0)
    for held in agent.locator("#lifecycle-withheld li").all():
        expect(held).to_have_attribute("data-rule", "blocked")
        expect(held).to_contain_text(CONSOLE_WORDS["pf_gate_blocked"]["zh-Hans"])

    facts = agent.locator("#lifecycle-facts")
    expect(facts).to_contain_text("风险承受能力（银行评估）")
    expect(facts).to_contain_text("来源: 银行客户资料")
    remittance = facts.locator("dd[data-source='bank:monthly_activity']").first
    expect(remittance).to_have_attribute("data-why", re.compile(r"cross-border remittances in the last"))
    # How it was worked out, in Chinese on hover.
    expect(remittance).to_have_attribute("title", re.compile(r"^最近 \d+ 个月跨境汇款 \d+ 笔"))
    expect(facts).to_contain_text("持有产品与使用")
    agent.screenshot(path=str(tmp_path / "profile.png"), full_page=True)


def test_the_agent_sees_the_suggestions_for_the_customer_in_the_pages_language(desk, browser, tmp_path):
    base = desk["server"].base
    holder = desk["holder"]
    customer = customer_page(browser, base, f"customer={holder}&lang=zh-Hans")
    customer.click("#person")
    expect(customer.locator("#banner")).to_contain_text("正在为您转接人工客服", timeout=20000)

    agent = sign_in(browser, base, "agent.wu", "zh-Hans")
    row = agent.locator("#queue tbody tr.queue__row", has_text=holder)
    expect(row).to_have_count(1, timeout=10000)
    row.locator("button.claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))
    page_url = agent.url.split("?")[0]
    found = agent.request.get(f"{page_url.replace('/console/', '/console/api/')}/customer-profile").json()
    shown = found["recommendations"]
    assert shown and found["suitability"] == {"open_complaint": False, "fraud_report": False}

    for lang, heading in (
        ("zh-Hans", "为该客户推荐"),
        ("zh-Hant", "為該客戶推薦"),
        ("en", "Suggested for this customer"),
    ):
        agent.goto(f"{page_url}?lang={lang}")
        panel = agent.locator("#lifecycle")
        expect(panel).to_have_attribute("data-state", "ready", timeout=10000)
        recs = agent.locator("#lifecycle-recs")
        expect(recs.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        items = agent.locator("#lifecycle-recs-list > li")
        expect(items).to_have_count(len(shown))
        for item, rec in zip(items.all(), shown, strict=True):
            expect(item).to_have_attribute("data-strategy", rec["strategy_id"])
            expect(item.locator(".pf-rec__text")).to_have_text(rec["texts"][lang])
            expect(item.locator(".pf-rec__kind")).to_have_text(CONSOLE_WORDS[f"pf_kind_{rec['kind']}"][lang])
            if rec["value"] is not None:
                expect(item).to_contain_text(rec["value"])
            why = item.locator(".pf-rec__why")
            if lang == "en":
                expect(why).to_contain_text(rec["explanation"]["en"])
            else:
                expect(why).to_contain_text(CONSOLE_WORDS["pf_recs_why"][lang])
                expect(why).not_to_contain_text(re.compile(r"[A-Za-z]{3,}"))  # worded, no codes
        if lang != "en":
            assert raw_codes(agent) == [], f"raw codes on the {lang} page"
        agent.screenshot(path=str(tmp_path / f"suggestions-{lang}.png"), full_page=True)
    agent.context.close()
    customer.context.close()
