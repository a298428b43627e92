"""Screenshots of the analytics dashboard over the demo month, for the docs (docs/screenshots/).

    .venv/bin/python scripts/analytics_screenshots.py [--out docs/screenshots]

Builds a fresh SQLite database in a temporary folder: the demo bank, the pack's FAQ, the demo
staff and the demo month of conversations (`helixdesk insight demo`: 30 days of conversations with
handoffs to the demo staff, a planted spike), the insight consumer and a mining run (for the
hotspots), the analytics rollups (a rebuild from the source tables); then serves it and photographs
/console/analytics (the last 30 days) in English and Simplified Chinese, a drill-down, and the
service-effect evaluation of the most cited FAQ entry, with Debian's Chromium. Needs the trained
models (`helixdesk nlu train`; set HELIXDESK_MODEL_DIR) and takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' helpers: the insight consumer and a mining run

from helixdesk.analytics.feed import rebuild  # noqa: E402
from helixdesk.core.settings import Settings  # noqa: E402
from helixdesk.core.timezones import zone  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory  # noqa: E402
from helixdesk.insight.demo import generate  # noqa: E402
from tests.insight_data import consume_and_mine  # noqa: E402
from tests.serverproc import Server  # noqa: E402

PASSWORD = "screenshots-only-pw"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    models = Path(os.environ.get("HELIXDESK_MODEL_DIR", ROOT / "var" / "models"))
    folder = Path(tempfile.mkdtemp(prefix="helixdesk-shots-"))
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(models),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    # The demo bank's customers (their tiers), as scripts/demo.sh seeds them.
    subprocess.run(
        [sys.executable, "-m", "helixdesk", "bank", "seed", "--customers", "200"],
        env={**os.environ, **env},
        check=True,
    )
    # The pack's FAQ in the knowledge base, as scripts/demo.sh loads it (the entries' questions).
    subprocess.run(
        [sys.executable, "-m", "helixdesk", "kb", "ingest", "--pack", "--quiet"],
        env={**os.environ, **env},
        check=True,
    )
    settings = Settings(_env_file=None, database_url=url, model_dir=models)  # type: ignore[call-arg]
    print(generate(settings, days=30, per_day=40, seed=7, staff_password=PASSWORD))
    consume_and_mine(sessions, models)
    print(rebuild(sessions, tz=zone(settings.bank_timezone or "Asia/Shanghai")))
    engine.dispose()

    server = Server(env, log=folder / "server.log").start()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{server.base}/console/login?next=/console/analytics")
            page.fill("#username", "sup.liu")
            page.fill("#password", PASSWORD)
            page.click("#login")
            expect(page).to_have_url(re.compile(r"/console/analytics"))
            # The page's scripts have run (the status menu's handler is bound) before it is used.
            expect(page.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=30000)
            with page.expect_response(re.compile(r"/console/api/presence")):
                page.locator("#presence").select_option("online")  # no "you are offline" banner
            for lang in ("en", "zh-Hans"):
                page.goto(f"{server.base}/console/analytics?period=month&lang={lang}")
                expect(page.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=30000)
                expect(page.locator("#an-error")).to_be_hidden()
                shot = args.out / f"analytics-{lang}.png"
                page.screenshot(path=str(shot), full_page=True)
                print(shot)
            page.goto(f"{server.base}/console/analytics?period=month&lang=en")
            expect(page.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=30000)
            page.locator('#cards [data-metric="containment"] .an__value').click()
            expect(page.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=30000)
            shot = args.out / "analytics-drill-down-en.png"
            page.screenshot(path=str(shot), full_page=False)
            print(shot)
            # The service effect: from the dashboard's button, the most cited entry (listed first).
            page.goto(f"{server.base}/console/analytics?period=month&lang=en")
            expect(page.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=30000)
            page.click("#effect-link")
            expect(page.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=30000)
            page.select_option("#effect-kind", "knowledge")
            page.click("#effect-run")
            expect(page).to_have_url(re.compile(r"change=knowledge"))
            expect(page.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=30000)
            expect(page.locator("#effect-table tbody tr")).to_have_count(3)
            page.locator('[data-chart="effect"] details.chart__data').evaluate("d => { d.open = true; }")
            shot = args.out / "analytics-effect-en.png"
            page.screenshot(path=str(shot), full_page=True)
            print(shot)
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
