"""The incident register in Debian's Chromium: an operator opens an incident for the mobile app in the
console; an affected customer's first message in the chat page gets the explanation first (once),
an unaffected customer's does not; the register counts the conversation, and the operator resolves
the incident. The pages raise no Content-Security-Policy violation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.incidents.regions import region_keys
from tests.browser.test_agent_console import PASSWORD, browser, customer_page, say  # noqa: F401 (fixture)
from tests.serverproc import Server

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")  # the browser's zone, and the demo bank's
EXPLANATION = "手机银行登录服务出现故障，部分客户暂时无法登录。"


@pytest.fixture(scope="module")
def site(tmp_path_factory, model_root):
    """A server on a fresh database with the demo bank and one operator; two customers of the bank
    in different regions."""
    folder = tmp_path_factory.mktemp("incidents")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(20))
    bank = DemoBankConnector(session_factory=sessions)
    customers = [bank.get_customer(f"C{i:06d}") for i in range(1, 21)]
    affected = next(c for c in customers if c and c.preferred_language == "zh-Hans")
    elsewhere = next(c for c in customers if c and not region_keys(c.city) & region_keys(affected.city))
    StaffAccounts(sessions=sessions).create_user(
        username="ops.zhou", password=PASSWORD, display_name="周航", roles=["operator"], ui_language="en"
    )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"base": server.base, "affected": affected, "elsewhere": elsewhere}
    server.stop()


def operator_page(browser: Browser, base: str, violations: list[str]) -> Page:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base}/console/incidents?lang=en")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#username", "ops.zhou")
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page).to_have_url(re.compile(r"/console/incidents(\?|$)"))
    expect(page.locator("body")).to_have_attribute("data-inc-ready", "true")
    return page


def bot_bubbles_with(page: Page, text: str):
    return page.locator("#log .msg--bot .msg__bubble", has_text=text)


def test_an_operator_opens_an_incident_and_only_affected_customers_hear_it_first(site, browser, tmp_path):  # noqa: F811
    violations: list[str] = []
    ops = operator_page(browser, site["base"], violations)
    expect(ops.locator("#inc-table tbody")).to_contain_text("No incidents")

    fix = (datetime.now(ZONE) + timedelta(hours=2)).replace(second=0, microsecond=0)
    ops.select_option("#inc-kind", "app_error")
    ops.fill("#inc-title-zh-Hans", "手机银行无法登录")
    ops.fill("#inc-title-en", "Mobile app sign-in failing")
    ops.fill("#inc-explanation-zh-Hans", EXPLANATION)
    ops.check('#inc-products input[value="mobile_app"]')
    ops.fill("#inc-regions", site["affected"].city)
    ops.fill("#inc-fix", fix.strftime("%Y-%m-%dT%H:%M"))
    with ops.expect_response(lambda r: r.url.endswith("/console/api/incidents") and r.status == 201):
        ops.click("#inc-save")
    row = ops.locator("#inc-table tbody tr[data-status='open']")
    expect(row).to_have_count(1)
    expect(row.locator(".inc__title")).to_have_text("Mobile app sign-in failing")
    expect(row.locator(".inc__affects")).to_contain_text("Mobile app")
    expect(row.locator(".inc__affects")).to_contain_text(site["affected"].city)
    expect(row).to_contain_text(fix.strftime("%Y-%m-%d %H:%M"))
    expect(row.locator(".inc__explained")).to_have_text("0")
    ops.screenshot(path=str(tmp_path / "incident-opened.png"), full_page=True)

    # The affected customer: the first reply is the explanation, with the fix time in the bank's time.
    customer = customer_page(browser, site["base"], f"customer={site['affected'].ref}&lang=zh-Hans")
    say(customer, "你好，我想查一下余额")
    first = customer.locator('.msg--bot[data-seq="2"] .msg__bubble')
    expect(first).to_contain_text("【服务通知】手机银行无法登录：" + EXPLANATION, timeout=20000)
    expect(first).to_contain_text(f"预计{fix.year}年{fix.month}月{fix.day}日 {fix:%H:%M}")
    customer.screenshot(path=str(tmp_path / "affected-customer.png"))
    say(customer, "我的信用卡账单是多少")
    second = customer.locator(".msg--customer").nth(1)
    expect(second).to_have_attribute("data-seq", re.compile(r"^\d+$"), timeout=20000)
    answer = int(second.get_attribute("data-seq") or 0) + 1
    expect(customer.locator(f'.msg--bot[data-seq="{answer}"]')).to_be_visible(timeout=20000)
    expect(bot_bubbles_with(customer, "服务通知")).to_have_count(1)  # once per conversation

    # A customer in another region hears nothing of it.
    other = customer_page(browser, site["base"], f"customer={site['elsewhere'].ref}&lang=zh-Hans")
    say(other, "你好，我想查一下余额")
    expect(other.locator('.msg--bot[data-seq="2"] .msg__bubble')).to_be_visible(timeout=20000)
    expect(bot_bubbles_with(other, "服务通知")).to_have_count(0)
    expect(bot_bubbles_with(other, EXPLANATION)).to_have_count(0)

    # The register counts the conversation it explained; the operator resolves the incident.
    ops.reload()
    expect(ops.locator("body")).to_have_attribute("data-inc-ready", "true")
    expect(row.locator(".inc__explained")).to_have_text("1")
    resolve = row.locator(".inc-resolve")
    resolve.click()
    expect(resolve).to_have_text("Resolve it now?")
    with ops.expect_response(lambda r: r.url.endswith("/resolve") and r.ok):
        resolve.click()
    resolved = ops.locator("#inc-table tbody tr[data-status='resolved']")
    expect(resolved).to_have_count(1)
    expect(resolved).to_contain_text("Resolved")
    ops.screenshot(path=str(tmp_path / "incident-resolved.png"), full_page=True)

    # After the fix, a new conversation of the once-affected customer hears nothing of it.
    later = customer_page(browser, site["base"], f"customer={site['affected'].ref}&lang=zh-Hans")
    say(later, "你好")
    expect(later.locator('.msg--bot[data-seq="2"] .msg__bubble')).to_be_visible(timeout=20000)
    expect(bot_bubbles_with(later, "服务通知")).to_have_count(0)
    assert violations == []


def test_an_operator_edits_an_incident_and_a_bad_time_is_refused_with_its_words(site, browser):  # noqa: F811
    violations: list[str] = []
    ops = operator_page(browser, site["base"], violations)
    ops.fill("#inc-title-en", "Payroll batch late")
    ops.fill("#inc-explanation-en", "Today's payroll batch is running late; no payment is lost.")
    ops.select_option("#inc-kind", "delayed_batch")
    ops.check('#inc-products input[value="payroll"]')
    start = datetime.now(ZONE).replace(second=0, microsecond=0)
    ops.fill("#inc-started", start.strftime("%Y-%m-%dT%H:%M"))
    ops.fill("#inc-fix", (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))  # before the start
    with ops.expect_response(lambda r: r.url.endswith("/console/api/incidents") and r.status == 422):
        ops.click("#inc-save")
    expect(ops.locator("#inc-message")).to_have_attribute("data-state", "error")
    expect(ops.locator("#inc-message")).to_contain_text("The incident is not valid")
    expect(ops.locator("#inc-message")).to_contain_text("expected_fix_at must be after started_at")
    expect(ops.locator("#inc-table tbody tr[data-incident]")).not_to_contain_text("Payroll batch late")

    ops.fill("#inc-fix", (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    with ops.expect_response(lambda r: r.url.endswith("/console/api/incidents") and r.status == 201):
        ops.click("#inc-save")
    row = ops.locator("#inc-table tbody tr", has_text="Payroll batch late")
    expect(row).to_have_count(1)
    row.locator(".inc-edit").click()
    expect(ops.locator("#inc-form-title")).to_have_text("Edit the incident")
    expect(ops.locator("#inc-title-en")).to_have_value("Payroll batch late")
    expect(ops.locator('#inc-products input[value="payroll"]')).to_be_checked()
    ops.select_option("#inc-status", "monitoring")
    with ops.expect_response(
        lambda r: "/console/api/incidents/" in r.url and r.request.method == "PATCH" and r.ok
    ):
        ops.click("#inc-save")
    row = ops.locator("#inc-table tbody tr", has_text="Payroll batch late")
    expect(row).to_have_attribute("data-status", "monitoring")
    expect(row).to_contain_text("Monitoring")
    assert violations == []
