"""In Debian's Chromium: an agent opens a handed-over conversation of a demo customer and sees the
customer's profile, their lifecycle stage with its rule, and the churn risk with its reasons, each
value with its source; a churn model is trained for the test (never var/models)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.lifecycle.artefacts import default_root, load_churn_model
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.customer import from_bank
from helixdesk.lifecycle.service import describe
from helixdesk.packs.loader import load_pack
from tests.browser.test_agent_console import PASSWORD, browser, customer_page, say, sign_in
from tests.churn_models import models_with_churn
from tests.seeded import seeded_database
from tests.serverproc import Server

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the shared Chromium fixture

STAGES_ZH = {"exploration": "考察期", "formation": "形成期", "stability": "稳定期", "decline": "退化期"}
BANDS_ZH = {"low": "低风险", "medium": "中风险", "high": "高风险"}
REF = "C000001"


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root):
    """A server on the demo bank with a fraud agent, and the lifecycle the panel must show for REF."""
    folder = tmp_path_factory.mktemp("profile")
    models = models_with_churn(model_root, folder / "models")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    StaffAccounts(sessions=sessions).create_user(
        username="fraud.zhao", password=PASSWORD, display_name="赵强", roles=["fraud"], languages=["zh", "en"]
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
    yield {"server": server, "expected": expected}
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
    # The rule's explanation is English: kept with the stage, not shown on a Chinese page.
    expect(stage).to_have_attribute("data-explanation", expected["stage"]["explanation"])
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

    facts = agent.locator("#lifecycle-facts")
    expect(facts).to_contain_text("风险承受能力（银行评估）")
    expect(facts).to_contain_text("来源: 银行客户资料")
    expect(facts.locator("dd[data-source='bank:monthly_activity']").first).to_have_attribute(
        "data-why", re.compile(r"cross-border remittances in the last")
    )
    expect(facts).to_contain_text("持有产品与使用")
    agent.screenshot(path=str(tmp_path / "profile.png"), full_page=True)
