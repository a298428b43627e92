"""Hotspots in Debian's Chromium: on a month of demo conversations with a planted spike, a
supervisor sees the spike flagged at the top of the week's hotspots, opens the hotspot by its link,
narrows the report by language, and downloads the CSV export; an agent is refused the page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.insight.demo import generate, load_themes
from tests.browser.test_agent_console import PASSWORD, browser  # noqa: F401 (the fixture is used by name)
from tests.insight_data import PACK, consume_and_mine
from tests.serverproc import Server

pytestmark = pytest.mark.browser
CRASH_TEXTS = {
    text for t in load_themes(PACK) if t.spike_days for lines in t.customer.values() for text in lines
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory, model_root):  # type: ignore[no-untyped-def]
    """A server over three weeks of demo conversations, mined, with a supervisor and an agent."""
    folder = tmp_path_factory.mktemp("insight")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    settings = Settings(_env_file=None, database_url=url, model_dir=model_root)  # type: ignore[call-arg]
    staff = StaffAccounts(sessions=sessions)
    staff.create_user(
        username="sup.liu", password=PASSWORD, display_name="刘洋", roles=["supervisor"], ui_language="en"
    )
    staff.create_user(username="agent.li", password=PASSWORD, display_name="李娜", roles=["agent"])
    # The demo creates the other demo staff its handoffs need.
    generate(settings, days=21, per_day=30, seed=5, staff_password=PASSWORD)
    assert consume_and_mine(sessions, model_root) is not None
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    yield server
    server.stop()


def signed_in(browser: Browser, base: str, path: str, username: str) -> Page:  # noqa: F811
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
    page.goto(f"{base}{path}")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    return page


def test_a_supervisor_finds_the_planted_spike_and_exports_it(hub, browser, tmp_path):  # noqa: F811
    page = signed_in(browser, hub.base, "/console/insight?period=week&lang=en", "sup.liu")
    expect(page.locator("#nav-insight")).to_have_text("Hotspots")
    spikes = page.locator("#spikes li")
    expect(spikes).to_have_count(1)
    topic = spikes.first.get_attribute("data-topic")
    assert topic and topic.startswith("t-")
    row = page.locator(f'#hotspots tr[data-topic="{topic}"]')
    expect(row).to_have_class(re.compile("is-spike"))
    expect(row.locator(".tag--spike")).to_have_text("Spike")
    examples = row.locator(".insight__example div").all_inner_texts()
    # The messages nearest the hotspot's centre are the planted theme's (an everyday "the app won't
    # open" may join them: it is the same problem).
    assert sum(text in CRASH_TEXTS for text in examples) >= 2, examples
    page.screenshot(path=str(tmp_path / "hotspots.png"))

    # The CSV export downloads the same report.
    with page.expect_download() as got:
        page.click("#export-csv")
    data = got.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    spiking = [r for r in rows if r["spike"] == "yes"]
    assert [r["topic_id"] for r in spiking] == [topic]
    assert spiking[0]["link"] == f"/console/insight/topics/{topic}"

    # The hotspot's stable link: its figures, its days, its examples.
    spikes.first.locator("a").click()
    expect(page).to_have_url(re.compile(f"/console/insight/topics/{topic}"))
    expect(page.locator("#topic")).to_have_attribute("data-topic", topic)
    expect(page.locator("#figures .tag--spike")).to_be_visible()
    expect(page.locator("#days tbody tr")).to_have_count(8)  # a week in the bank's days, both ends
    shown = page.locator("#examples .insight__text").all_inner_texts()
    assert sum(text in CRASH_TEXTS for text in shown) > len(shown) / 2, shown
    page.screenshot(path=str(tmp_path / "hotspot.png"), full_page=True)

    # Only English messages: the hotspot is still there, with English examples only.
    page.goto(f"{hub.base}/console/insight?period=week&language=en&lang=en")
    row = page.locator(f'#hotspots tr[data-topic="{topic}"]')
    expect(row).to_be_visible()
    assert {
        lang for lang in row.locator(".insight__example div").evaluate_all("els => els.map(e => e.lang)")
    } == {"en"}

    # A bad period is refused with its stable code; the page says why and shows the last week.
    page.goto(f"{hub.base}/console/insight?since=2026-12-01&until=2026-11-01&lang=en")
    expect(page.locator("#query-error")).to_have_attribute("data-code", "invalid_period")
    expect(page.locator("#query-error")).to_contain_text("must start before it ends")
    expect(page.locator("#spikes li")).to_have_count(1)
    bad = page.request.get(f"{hub.base}/console/api/insight/hotspots?since=2026-12-01&until=2026-11-01")
    assert bad.status == 422 and bad.json()["error"]["code"] == "invalid_period"


def test_an_agent_may_not_read_the_hotspots(hub, browser):  # noqa: F811
    page = signed_in(browser, hub.base, "/console?lang=en", "agent.li")
    expect(page.locator("#queue")).to_be_visible()
    expect(page.locator("#nav-insight")).to_have_count(0)
    r = page.request.get(f"{hub.base}/console/api/insight/hotspots")
    assert r.status == 403
