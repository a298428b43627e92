"""Drift alarms on the supervisor's board, in Debian's Chromium: eight ordinary days and one day a
new topic floods in (real NLU) are in the database when `helixdesk serve` starts with its drift
process; the process reads them from the event log and judges the days, and the board shows the
flooded day's alarms with what stood out. A supervisor resolves one with a note; the analytics
page marks the day's measures."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.core.timezones import zone
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from tests.browser.test_agent_console import PASSWORD, browser
from tests.drift_data import days_ago, ordinary_day, shifted_day, write_days
from tests.serverproc import Server

pytestmark = pytest.mark.browser
__all__ = ["browser"]

FIRST = days_ago(10)  # the flooded day two days ago
FLOOD = FIRST + timedelta(days=8)


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root, keyring, nlu_pipeline):
    folder = tmp_path_factory.mktemp("drift")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    StaffAccounts(sessions=sessions).create_user(
        username="sup.wang",
        password=PASSWORD,
        display_name="王主管",
        roles=["supervisor"],
        languages=["zh", "en"],
    )
    rng = random.Random(19)
    days = {FIRST + timedelta(days=i): ordinary_day(rng, 80) for i in range(8)}
    days[FLOOD] = shifted_day(rng, 80)
    write_days(sessions, keyring, nlu_pipeline, days, zone("Asia/Shanghai"))
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_BANK_TIMEZONE": "Asia/Shanghai",
        "HELIXDESK_QUALITY_WORKER": "false",
        "HELIXDESK_DRIFT_WORKER": "true",
        "HELIXDESK_DRIFT_JUDGE_SECONDS": "2",
    }
    server = Server(env, log=folder / "server.log").start(timeout=180)  # a loaded machine starts slowly
    yield server
    server.stop()


def supervisor(browser, base: str, lang: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{base}/console/login?lang={lang}&next=/console/supervisor")
    page.fill("#username", "sup.wang")
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page).to_have_url(re.compile(r"/console/supervisor"))
    return page


def test_the_flooded_days_alarms_show_on_the_board_and_a_supervisor_resolves_one(desk, browser, tmp_path):
    boss = supervisor(browser, desk.base, "zh-Hans")
    panel = boss.locator("#drift-panel")
    expect(panel.locator("h1")).to_contain_text("模型漂移告警")
    rows = panel.locator("#drift-alarms tbody tr.drift-alarm")
    # The drift process catches up with the event log and judges the days (every 2 s here); the
    # board reloads itself every 15 s.
    expect(rows.first).to_be_visible(timeout=120_000)
    flooded = rows.filter(has_text=FLOOD.isoformat())
    everywhere = flooded.filter(has_text="全部语言")
    expect(everywhere).to_have_count(4)
    for measure in ("意图分布偏移", "平均置信度", "超出范围占比", "新词占比"):
        expect(everywhere.filter(has_text=measure)).to_have_count(1)
    assert rows.count() == flooded.count()  # the ordinary days are quiet
    count = panel.locator("#drift-count")
    expect(count).to_have_text(str(rows.count()))
    expect(count).to_have_class(re.compile(r"count--on"))
    words = everywhere.filter(has_text="新词占比")
    expect(words.locator(".drift__detail")).to_contain_text("新词")
    expect(words.locator(".drift__change")).to_contain_text("→")
    expect(words).to_contain_text("近期窗口")
    oos = everywhere.filter(has_text="超出范围占比").locator(".drift__change")
    shares = [float(x) for x in re.findall(r"([\d.]+)%", oos.inner_text())]
    assert len(shares) == 2 and shares[1] > shares[0] + 6, shares
    boss.screenshot(path=str(tmp_path / "drift-alarms.png"), full_page=True)

    before = rows.count()
    words.locator("input.drift__note").fill("数字人民币钱包上线，已加知识库条目")
    words.locator("button.resolve").click()
    expect(rows).to_have_count(before - 1)
    expect(count).to_have_text(str(before - 1))
    expect(everywhere.filter(has_text="新词占比")).to_have_count(0)

    # The analytics page: the day's measures marked, the resolved alarm with its note.
    page = boss.context.new_page()
    page.goto(f"{desk.base}/console/analytics?period=custom&from={FIRST}&to={FLOOD}&lang=zh-Hans")
    expect(page.locator("#drift")).to_have_attribute("data-ready", "true")
    day = page.locator(f'#drift-table tbody tr[data-day="{FLOOD}"]')
    expect(day.locator("td.drift__cell--alarm")).to_have_count(4)
    quiet = page.locator(f'#drift-table tbody tr[data-day="{FLOOD - timedelta(days=1)}"]')
    expect(quiet.locator("td.drift__cell--alarm")).to_have_count(0)
    expect(page.locator("#drift-alarm-list")).to_contain_text("数字人民币钱包上线")
    expect(page.locator("#drift-alarm-list")).to_contain_text("已处理")
    page.screenshot(path=str(tmp_path / "drift-analytics.png"), full_page=True)


def test_the_panel_speaks_the_supervisors_language(desk, browser):
    for lang, title, empty in (
        ("zh-Hant", "模型漂移警示", "全部語言"),
        ("en", "Model drift alarms", "All languages"),
    ):
        boss = supervisor(browser, desk.base, lang)
        expect(boss.locator("#drift-panel h1")).to_contain_text(title)
        expect(boss.locator("#drift-alarms tbody tr.drift-alarm").first).to_contain_text(empty, timeout=60000)
