"""Training mode in Debian's Chromium: an agent practises on a simulated angry customer, calms them
and gets a QA score; then on a scam victim, asks for the code (as they never should), stops, and
reads the finding with its compliant alternative. The page says throughout that it is practice."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from tests.browser.test_agent_console import PASSWORD, browser, sign_in
from tests.serverproc import Server

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the Chromium fixture


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root):
    """A server on a fresh database with one agent: practice needs no bank and no customer."""
    folder = tmp_path_factory.mktemp("training")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    StaffAccounts(sessions=make_session_factory(engine)).create_user(
        username="agent.zhou", password=PASSWORD, display_name="周婷", roles=["agent"], languages=["zh", "en"]
    )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    yield server
    server.stop()


def _reply(page, text: str) -> None:
    lines = page.locator("#tr-transcript li")
    before = lines.count()
    page.fill("#tr-reply", text)
    page.keyboard.press("Enter")
    expect(lines).to_have_count(before + 2, timeout=15000)  # the agent's message and the customer's answer


def test_an_agent_calms_a_simulated_angry_customer_and_is_scored(desk, browser, tmp_path):
    page = sign_in(browser, desk.base, "agent.zhou", "zh-Hans")
    page.click("#nav-training")
    expect(page).to_have_url(re.compile(r"/console/training"))
    expect(page.locator("body")).to_have_attribute("data-training-ready", "true")
    expect(page.locator("#tr-badge")).to_contain_text("模拟客户，不是真实客户")
    expect(page.locator("#tr-situation")).to_contain_text("重复扣款")
    page.check('input[name="customer"][value="angry"]')
    page.select_option("#tr-language", "zh-Hans")
    page.click("#tr-go")

    talk = page.locator("#tr-talk")
    expect(talk).to_be_visible()
    expect(talk.locator(".training__tag")).to_have_text("训练")
    opening = page.locator("#tr-transcript li").first
    expect(opening).to_have_attribute("data-sender", "customer")
    expect(opening.locator(".line__who")).to_have_text("模拟客户")
    expect(opening).to_contain_text("368")

    _reply(page, "非常抱歉让您久等了，我马上为您核实这两笔扣款并提交退款申请。")
    expect(page.locator("#tr-needs")).to_contain_text("致歉")
    expect(page.locator("#tr-needs")).to_contain_text("处理方案")
    _reply(page, "多扣的368元会在3个工作日内退回您的卡上，我会一直跟进。")

    expect(page.locator("body")).to_have_attribute("data-training-status", "ended")
    result = page.locator("#tr-result")
    expect(result).to_be_visible()
    expect(page.locator("#tr-outcome")).to_have_text("客户满意")
    score = int(page.locator("#tr-score").inner_text())
    assert 70 <= score <= 100
    expect(page.locator("#tr-reply")).to_be_disabled()
    page.screenshot(path=str(tmp_path / "training-angry.png"), full_page=True)

    page.reload()
    rows = page.locator("#tr-history tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("愤怒的客户")
    expect(rows.first).to_contain_text("客户满意")


def test_asking_a_scam_victim_for_the_code_is_a_finding_with_a_compliant_alternative(desk, browser, tmp_path):
    page = sign_in(browser, desk.base, "agent.zhou", "en")
    page.goto(f"{desk.base}/console/training?lang=en")
    expect(page.locator("body")).to_have_attribute("data-training-ready", "true")
    page.check('input[name="customer"][value="scam_victim"]')
    expect(page.locator("#tr-situation")).to_contain_text("safe account")
    page.select_option("#tr-language", "en")
    page.click("#tr-go")
    expect(page.locator("#tr-transcript li").first).to_contain_text("50,000")

    _reply(page, "Please tell me the verification code we just sent to your phone.")
    # The customer takes it badly (the words vary with the practice's seed).
    expect(page.locator("#tr-transcript li").last).to_have_attribute("data-outcome", "worse")
    page.click("#tr-end")

    expect(page.locator("#tr-outcome")).to_have_text("You ended the practice")
    finding = page.locator('#tr-findings li[data-rule="asks_secret"]')
    expect(finding).to_be_visible()
    expect(finding).to_contain_text("one-time code")
    expect(finding.locator(".training__alt")).to_contain_text("never share a one-time code")
    assert int(page.locator("#tr-score").inner_text()) <= 75
    page.screenshot(path=str(tmp_path / "training-scam.png"), full_page=True)


@pytest.mark.parametrize(
    ("language", "shirking"),
    [
        ("zh-Hans", "这不归我们管，你自己去找商户吧"),
        ("zh-Hant", "呢個唔關我哋事，你自己打去問商戶"),
        ("en", "That's not my department, call the merchant yourself."),
    ],
)
def test_the_practice_page_shows_no_raw_code_or_key(desk, browser, language, shirking):
    """A practice ended with findings, shown in each language: no tr_* key, no code on the Chinese pages."""
    from tests.browser.test_page_languages import raw_codes, visible_text

    page = sign_in(browser, desk.base, "agent.zhou", language)
    page.goto(f"{desk.base}/console/training?lang={language}")
    expect(page.locator("body")).to_have_attribute("data-training-ready", "true")
    page.check('input[name="customer"][value="angry"]')
    page.select_option("#tr-language", language)
    page.click("#tr-go")
    expect(page.locator("#tr-transcript li")).to_have_count(1)
    _reply(page, shirking)
    page.click("#tr-end")
    expect(page.locator("#tr-findings li").first).to_be_visible()
    text = visible_text(page)
    assert re.findall(r"\btr_[a-z_]+", text) == []
    if language != "en":
        assert raw_codes(page) == []
    page.context.close()
