"""First-response SLAs live on the supervisor's board, in Debian's Chromium: a VIP's fraud report
waits past its target (8 s, from a bank's own handoff policy) and the breach appears on the open
board without a reload, ticking; it stays when an agent claims the conversation and leaves when
the agent replies."""

from __future__ import annotations

import re

import pytest
import yaml
from playwright.sync_api import expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.packs.loader import load_pack
from tests.browser.test_agent_console import PASSWORD, browser, customer_page, say, sign_in
from tests.seeded import seeded_database
from tests.serverproc import Server

pytestmark = pytest.mark.browser
__all__ = ["browser"]

TARGET = 8  # seconds: long enough to see the conversation within it first, short for the test


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root):
    """A server whose handoff policy (`HELIXDESK_HANDOFF_POLICY`) gives VIPs an 8-second target."""
    folder = tmp_path_factory.mktemp("sla")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    bank = DemoBankConnector(session_factory=sessions)
    vip = next(
        c for c in (bank.get_customer(f"C{i:06d}") for i in range(1, 61)) if c and c.value_tier == "vip"
    )
    staff = StaffAccounts(sessions=sessions)
    for username, name, roles in (("sup.wang", "王主管", ["supervisor"]), ("fraud.zhao", "赵强", ["fraud"])):
        staff.create_user(
            username=username, password=PASSWORD, display_name=name, roles=roles, languages=["zh", "en"]
        )
    engine.dispose()
    policy = yaml.safe_load(
        (load_pack("retail_bank").path / "handoff" / "policy.yaml").read_text(encoding="utf-8")
    )
    policy["routing"]["sla_rules"] = [{"tier": "vip", "seconds": TARGET}]
    (folder / "policy.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_HANDOFF_POLICY": str(folder / "policy.yaml"),
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"server": server, "vip": vip.ref}
    server.stop()


def test_a_vips_wait_past_its_target_shows_live_on_the_board_until_the_agent_replies(desk, browser, tmp_path):
    base, ref = desk["server"].base, desk["vip"]
    boss = sign_in(browser, base, "sup.wang", "zh-Hans")
    boss.goto(f"{base}/console/supervisor")
    panel = boss.locator("#sla-panel")
    expect(panel.locator("#sla-count")).to_have_text("0")
    expect(panel.locator("#sla-breaches tbody")).to_contain_text("暂无超过首次响应时限的会话")
    boss.evaluate("window.helixStayed = true")  # gone if the page reloads

    customer = customer_page(browser, base, f"customer={ref}&lang=zh-Hans")
    say(customer, "我的卡被盗刷了！昨天有一笔五千块的消费不是我做的")
    expect(customer.locator("#banner")).to_contain_text("正在为您转接人工客服", timeout=20000)

    # The board hears of the handoff at once; the breach comes when the target passes, by itself.
    expect(boss.locator("#board-queue tbody tr", has_text=ref)).to_have_count(1, timeout=10000)
    breach = panel.locator("#sla-breaches tbody tr.sla-row", has_text=ref)
    expect(breach).to_have_count(0)
    expect(breach).to_have_count(1, timeout=(TARGET + 10) * 1000)
    expect(breach).to_contain_text("反欺诈")
    expect(breach).to_contain_text("VIP")
    expect(breach).to_contain_text("排队中")
    expect(breach.locator(".sla__target")).to_have_text(f"{TARGET}秒")
    expect(breach.locator("a.button")).to_have_attribute("href", re.compile(r"^/console/conversations/"))
    expect(panel.locator("#sla-count")).to_have_text("1")
    expect(panel.locator("#sla-count")).to_have_class(re.compile(r"count--on"))
    expect(panel.locator('#sla-by-queue li[data-queue="fraud"] .n')).to_have_text("1")
    expect(panel.locator('#sla-by-queue li[data-queue="general"] .n')).to_have_text("0")
    over = breach.locator(".sla__over")
    first = over.inner_text()
    assert re.fullmatch(r"\+\d+秒", first)
    expect(over).not_to_have_text(first)  # it ticks
    boss.screenshot(path=str(tmp_path / "sla-breach.png"), full_page=True)

    # Claimed is not answered: the breach stays, with who has it.
    agent = sign_in(browser, base, "fraud.zhao", "zh-Hans")
    row = agent.locator("#queue tbody tr.queue__row", has_text=ref)
    expect(row).to_have_count(1, timeout=10000)
    row.locator("button.claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/"))
    expect(breach).to_contain_text("已接入，未回复", timeout=10000)
    expect(breach).to_contain_text("赵强")
    expect(panel.locator("#sla-count")).to_have_text("1")

    agent.fill("#reply", "您好，我是反欺诈专员赵强，现在为您处理")
    agent.click("#send")
    expect(customer.locator(".msg--agent .msg__bubble").last).to_contain_text("现在为您处理", timeout=10000)
    expect(breach).to_have_count(0, timeout=10000)
    expect(panel.locator("#sla-count")).to_have_text("0")
    expect(panel.locator('#sla-by-queue li[data-queue="fraud"] .n')).to_have_text("0")
    expect(panel.locator("#sla-breaches tbody")).to_contain_text("暂无超过首次响应时限的会话")
    assert boss.evaluate("window.helixStayed") is True
