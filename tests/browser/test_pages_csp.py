"""Pages work under the Content-Security-Policy: the chat, the API docs, the demo outbox; no violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.serverproc import Server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
def server(sqlite_url, tmp_path, server_env):
    srv = Server({"HELIXDESK_DATABASE_URL": sqlite_url, **server_env}, log=tmp_path / "server.log").start()
    yield srv
    srv.stop()


def test_pages_render_without_csp_violations(server):
    violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        response = page.goto(f"{server.base}/?lang=en")
        assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator("#status")).to_have_attribute(
            "data-state", "online", timeout=15000
        )  # WebSocket up

        page.goto(f"{server.base}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Helixdesk API", timeout=15000)
        expect(page.locator(".opblock-summary-path").first).to_be_visible()

        page.goto(f"{server.base}/demo/outbox")
        expect(page.locator("h1")).to_contain_text("Demo outbox")
        assert (
            page.eval_on_selector("body", "b => getComputedStyle(b).marginTop") == "24px"
        )  # outbox.css applied
        browser.close()
    assert violations == []
