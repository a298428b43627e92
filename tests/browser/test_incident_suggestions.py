"""Spikes suggested as incidents in Debian's Chromium.

On three weeks of demo conversations with the planted spike ("the app crashes after the update"),
consumed, embedded and mined as the worker does, an operator sees the spike above the register,
opens its hotspot page by the link, opens an incident from it (the form filled in: title, channels,
the note with the counts and the link) and the suggestion is gone. On planted hotspot rows, an
operator marks a spike "Not an incident" and it stays gone. No Content-Security-Policy violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from helixdesk.auth.service import StaffAccounts
from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.insight.demo import generate
from helixdesk.insight.hotspots import Period, hotspots
from helixdesk.insight.models import InsightRun
from tests.browser.test_agent_console import PASSWORD, browser  # noqa: F401 (the fixture is used by name)
from tests.insight_data import consume_and_mine
from tests.serverproc import Server
from tests.spike_data import plant

pytestmark = pytest.mark.browser


def serve(folder, url: str, model_root) -> Server:  # type: ignore[no-untyped-def]
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    return Server(env, log=folder / "server.log").start()


def operator(sessions) -> None:  # type: ignore[no-untyped-def]
    StaffAccounts(sessions=sessions).create_user(
        username="ops.zhou", password=PASSWORD, display_name="周航", roles=["operator"], ui_language="en"
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory, model_root):  # type: ignore[no-untyped-def]
    """A server over three weeks of demo conversations, mined; the hotspots spiking in the run's
    last day or week, read from the report."""
    folder = tmp_path_factory.mktemp("spikes")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    operator(sessions)
    settings = Settings(_env_file=None, database_url=url, model_dir=model_root)  # type: ignore[call-arg]
    generate(settings, days=21, per_day=30, seed=5, staff_password=PASSWORD)
    assert consume_and_mine(sessions, model_root) is not None
    with reading(sessions) as s:
        until = s.scalar(select(InsightRun.until).order_by(InsightRun.id.desc()).limit(1))
        assert until is not None
        spiking = {
            h.topic_id for kind in ("day", "week") for h in hotspots(s, Period.last(kind, until)).spikes
        }
    assert spiking, "the demo plants a spike"
    engine.dispose()
    server = serve(folder, url, model_root)
    yield {"base": server.base, "spiking": spiking}
    server.stop()


@pytest.fixture(scope="module")
def planted(tmp_path_factory, model_root):  # type: ignore[no-untyped-def]
    """A server over hotspot rows with two planted spikes."""
    folder = tmp_path_factory.mktemp("planted")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    operator(sessions)
    plant(sessions)
    engine.dispose()
    server = serve(folder, url, model_root)
    yield {"base": server.base}
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


def test_an_operator_opens_an_incident_from_the_planted_spike(demo, browser, tmp_path):  # noqa: F811
    violations: list[str] = []
    ops = operator_page(browser, demo["base"], violations)
    shown = ops.locator("#inc-spikes .inc-spike")
    expect(shown).to_have_count(len(demo["spiking"]))
    assert {shown.nth(i).get_attribute("data-hotspot") for i in range(shown.count())} == demo["spiking"]
    spike = shown.first
    hotspot = spike.get_attribute("data-hotspot")
    assert hotspot and hotspot.startswith("t-")
    expect(spike.locator(".inc-spike__sizes li").first).to_contain_text(re.compile(r"messages, usually"))
    label = spike.locator(".inc-spike__label").inner_text()
    assert label
    ops.screenshot(path=str(tmp_path / "suggested.png"), full_page=True)

    # The link opens the hotspot's page; its back link leads to the register.
    spike.locator(".inc-spike__link").click()
    expect(ops).to_have_url(re.compile(f"/console/insight/topics/{hotspot}"))
    expect(ops.locator("#topic")).to_have_attribute("data-topic", hotspot)
    ops.click("#back")
    expect(ops).to_have_url(re.compile(r"/console/incidents$"))
    expect(ops.locator("body")).to_have_attribute("data-inc-ready", "true")

    # "Open an incident" fills the form from the spike.
    ops.locator(f'.inc-spike-open[data-hotspot="{hotspot}"]').click()
    expect(ops.locator("#inc-title-en")).to_have_value(label[:120])
    expect(ops.locator("#inc-from-hotspot")).to_be_visible()
    expect(ops.locator("#inc-hotspot-link")).to_have_attribute(
        "href", re.compile(f"/console/insight/topics/{hotspot}")
    )
    note = ops.locator("#inc-note").input_value()
    assert hotspot in note and "usually" in note and f"/console/insight/topics/{hotspot}" in note
    assert ops.locator('#inc-channels input[name="channels"]:checked').count() >= 1
    ops.fill("#inc-title-en", "The app closes after the update")
    ops.fill(
        "#inc-explanation-en", "Some customers' app closes after the latest update; a fix is on its way."
    )
    with ops.expect_response(lambda r: r.url.endswith("/console/api/incidents") and r.status == 201):
        ops.click("#inc-save")
    row = ops.locator("#inc-table tbody tr[data-status='open']")
    expect(row).to_have_count(1)
    [made] = ops.request.get(f"{demo['base']}/console/api/incidents").json()["incidents"]
    assert made["hotspot_id"] == hotspot
    expect(row.locator(".inc__title")).to_have_text("The app closes after the update")
    expect(ops.locator(f'.inc-spike[data-hotspot="{hotspot}"]')).to_have_count(0)
    expect(ops.locator("#inc-spikes .inc-spike")).to_have_count(len(demo["spiking"]) - 1)
    ops.screenshot(path=str(tmp_path / "opened-from-spike.png"), full_page=True)
    assert violations == []


def test_an_operator_marks_a_spike_not_an_incident(planted, browser):  # noqa: F811
    violations: list[str] = []
    ops = operator_page(browser, planted["base"], violations)
    spike = ops.locator('.inc-spike[data-hotspot="t-cards"]')
    expect(spike).to_be_visible()
    with ops.expect_response(lambda r: r.url.endswith("/suggestions/t-cards/dismiss") and r.ok):
        spike.locator(".inc-spike-dismiss").click()
    expect(spike).to_have_count(0)
    expect(ops.locator("#inc-message")).to_have_text("Marked as not an incident; it is not suggested again.")
    ops.reload()
    expect(ops.locator("body")).to_have_attribute("data-inc-ready", "true")
    expect(ops.locator('.inc-spike[data-hotspot="t-cards"]')).to_have_count(0)
    expect(ops.locator('.inc-spike[data-hotspot="t-crash"]')).to_be_visible()
    # In Chinese, the page words the spike in the page's language.
    ops.goto(f"{planted['base']}/console/incidents?lang=zh-Hans")
    expect(ops.locator("#inc-spikes-title")).to_have_text("客户突然集中咨询同一问题")
    expect(ops.locator('.inc-spike[data-hotspot="t-crash"] .inc-spike__sizes')).to_contain_text("最近一天")
    assert violations == []
