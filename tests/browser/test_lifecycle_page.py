"""The lifecycle strategies' page in Debian's Chromium, over the strategy-effect fixture
(tests/strategy_effect_data.py): a supervisor sees the strategies in order with their touches of
October counted by arm and status, opens the fee waiver's effect and reads the figures computed from
the fixture's rows, the verdicts, the forest plot's description and its data table, in English and
in Simplified Chinese (no raw code there); nothing breaks the CSP. An agent has no link to it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.lifecycle.strategies import load_strategies
from helixdesk.packs.loader import load_pack
from tests.browser.test_agent_console import browser  # noqa: F401 (the fixture is used by name)
from tests.browser.test_page_languages import raw_codes, visible_text
from tests.serverproc import Server
from tests.strategy_effect_data import ROWS, SINCE, STRATEGY, UNTIL, counted, expected, seed_strategy_effect

pytestmark = pytest.mark.browser
PASSWORD = "lifecycle-page-pw"
QUERY = f"since={SINCE}&until={UNTIL}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, model_root: Any) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("lifecycle")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    seed_strategy_effect(sessions)
    staff = StaffAccounts(sessions=sessions)
    for username, roles, ui in (
        ("sup.en", ["supervisor"], "en"),
        ("sup.zh", ["supervisor"], "zh-Hans"),
        ("agent.en", ["agent"], "en"),
    ):
        staff.create_user(
            username=username,
            password=PASSWORD,
            display_name=username,
            roles=roles,
            languages=["zh", "en"],
            ui_language=ui,
        )
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"base": server.base}
    server.stop()


def signed_in(browser: Browser, base: str, username: str, violations: list[str]) -> Page:  # noqa: F811
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()

    def seen(m: ConsoleMessage) -> None:
        if "Content Security Policy" in m.text:
            violations.append(m.text)

    page.on("console", seen)
    page.on("pageerror", lambda e: violations.append(str(e)))
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator(".top__nav")).to_be_visible()
    return page


def _signed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text if text.startswith("-") or float(text) == 0 else "+" + text


def test_a_supervisor_reads_the_strategies_and_the_effect(site, browser):  # noqa: F811
    violations: list[str] = []
    page = signed_in(browser, site["base"], "sup.en", violations)
    page.click("#nav-lifecycle")
    expect(page).to_have_url(re.compile(r"/console/lifecycle$"))
    rows = page.locator("#lc-strategies tbody tr")
    ids = [s.id for s in load_strategies(load_pack("retail_bank")).strategies]
    expect(rows).to_have_count(len(ids))
    assert [rows.nth(i).get_attribute("data-strategy") for i in range(len(ids))] == ids
    page.goto(f"{site['base']}/console/lifecycle?{QUERY}")
    in_october = [r for r in ROWS if SINCE <= r.day <= UNTIL]
    for strategy in {r.strategy for r in in_october}:
        row = page.locator(f'#lc-strategies tr[data-strategy="{strategy}"]')
        mine = [r for r in in_october if r.strategy == strategy]
        expect(row.locator(".lc__given")).to_have_text(str(sum(r.touch_status == "given" for r in mine)))
        expect(row.locator(".lc__held-out")).to_have_text(
            str(sum(r.touch_status == "held_out" for r in mine))
        )
        expect(row.locator(".lc__skipped")).to_have_text(str(sum(r.touch_status == "skipped" for r in mine)))
    page.locator(f'#lc-strategies tr[data-strategy="{STRATEGY}"] .lc__effect-link').click()
    expect(page.locator("body")).to_have_attribute("data-lifecycle-ready", "true", timeout=20000)
    expect(page.locator("#lc-error")).to_be_hidden()
    want = expected(counted())
    table = page.locator("#lc-effect-table tbody tr")
    expect(table).to_have_count(3)
    csat = page.locator('#lc-effect-table tr[data-outcome="csat"]')
    expect(csat.locator(".lc__difference")).to_have_text(_signed(want["csat"]["difference"], 2))
    expect(csat.locator(".lc__interval")).to_have_text(
        f"{_signed(want['csat']['ci_low'], 2)} to {_signed(want['csat']['ci_high'], 2)}"
    )
    retention = page.locator('#lc-effect-table tr[data-outcome="retention"]')
    expect(retention.locator(".lc__difference")).to_have_text(
        _signed(want["retention"]["difference"] * 100, 1) + " pts"
    )
    for key, figures in want.items():
        clear = figures["ci_low"] > 0 or figures["ci_high"] < 0
        verdict = ("better" if figures["difference"] > 0 else "worse") if clear else "no_clear_effect"
        expect(page.locator(f'#lc-effect-table tr[data-outcome="{key}"]')).to_have_attribute(
            "data-verdict", verdict
        )
    expect(page.locator("#lc-effect-what")).to_contain_text(
        f"{sum(r.arm == 'touched' for r in counted())} customers given the strategy"
    )
    expect(page.locator("#lc-effect-through")).to_have_text(
        "Retention and products held observed through 2026-11."
    )
    chart = page.locator('[data-chart="lc-effect"]')
    expect(chart.locator('[aria-label*="forest plot"]').first).to_be_attached()
    label = chart.locator("[aria-label]").first.get_attribute("aria-label") or ""
    assert "CSAT " + _signed(want["csat"]["difference"], 2) in label
    chart.locator("details.chart__data").evaluate("d => { d.open = true; }")
    expect(chart.locator("table.chart__table tbody tr")).to_have_count(3)
    assert violations == []


def test_the_page_in_chinese_shows_no_raw_code(site, browser):  # noqa: F811
    violations: list[str] = []
    page = signed_in(browser, site["base"], "sup.zh", violations)
    page.goto(f"{site['base']}/console/lifecycle?{QUERY}&strategy={STRATEGY}")
    expect(page.locator("body")).to_have_attribute("data-lifecycle-ready", "true", timeout=20000)
    expect(page.locator("#lc-effect-table")).to_be_visible()
    page.locator("details.chart__data").evaluate_all("ds => ds.forEach(d => { d.open = true; })")
    text = visible_text(page)
    assert re.findall(r"\b(?:lc|an|pf)_[a-z_]+", text) == []
    assert "对照组" in text and "满意度" in text
    assert raw_codes(page) == []
    assert violations == []


def test_an_agent_has_no_link_and_is_refused(site, browser):  # noqa: F811
    page = signed_in(browser, site["base"], "agent.en", [])
    expect(page.locator("#nav-lifecycle")).to_have_count(0)
    r = page.request.get(f"{site['base']}/console/lifecycle")
    assert r.status == 403
