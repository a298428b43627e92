"""Human review of the QA engine's findings, and coaching, in Debian's Chromium: a QA reviewer opens a
flagged conversation from the review queue, sees the evidence highlighted in the agent's message,
confirms the finding, scores the conversation, and the agreement page counts it; a supervisor turns
a coaching suggestion into a coaching item that the agent finds under "My quality" and finishes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from helixdesk.auth.service import StaffAccounts
from helixdesk.core.clock import utcnow
from helixdesk.db.session import make_engine, make_session_factory, transaction
from tests.browser.test_agent_console import (  # noqa: F401 (the fixtures are used by name)
    PASSWORD,
    browser,
    desk,
    sign_in,
)
from tests.quality_data import add_conversation, add_finding, add_scorecard

pytestmark = pytest.mark.browser

PROMISE = "这款理财保本保收益，您放心买"


@pytest.fixture(scope="module")
def flagged(desk):  # noqa: F811
    """Two closed conversations of agent.li the QA engine flagged for promising returns, and the
    QA reviewer and supervisor who look at them (written straight into the server's database)."""
    engine = make_engine(desk["server"].env["HELIXDESK_DATABASE_URL"])
    sessions = make_session_factory(engine)
    staff = StaffAccounts(sessions=sessions)
    for username, name, roles in (("qa.huang", "黄敏", ["qa_reviewer"]), ("sup.liu", "刘洋", ["supervisor"])):
        staff.create_user(
            username=username, password=PASSWORD, display_name=name, roles=roles, ui_language="en"
        )
    agent = staff.get("agent.li")
    found = []
    with transaction(sessions) as s:
        for days_ago, text, evidence in ((1, PROMISE, "保本保收益"), (3, "放心，这个稳赚不赔", "稳赚不赔")):
            at = utcnow() - timedelta(days=days_ago)
            conv, msgs = add_conversation(s, [("customer", "这个理财产品安全吗？"), ("agent", text)], at=at)
            add_scorecard(s, conv.id, agent_id=agent.id, team="general", score=75.0, started_at=at)
            finding = add_finding(
                s,
                conv.id,
                "absolute_promise",
                message=msgs[1],
                evidence=evidence,
                agent_id=agent.id,
                created_at=at,
            )
            found.append((conv.id, finding.id))
    engine.dispose()
    return found


def staff_page(browser: Browser, base: str, path: str, username: str, violations: list[str]) -> Page:  # noqa: F811
    """Sign in on the way to a console page (the sign-in form sends the person on to it); any
    Content-Security-Policy violation of the page lands in `violations`."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base}{path}")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page).to_have_url(re.compile(re.escape(path.split("?")[0]) + r"(\?|$)"))
    return page


def test_a_qa_reviewer_confirms_a_finding_and_the_agreement_page_counts_it(desk, flagged, browser, tmp_path):  # noqa: F811
    base = desk["server"].base
    (conv, finding), _ = flagged
    violations: list[str] = []
    qa = staff_page(browser, base, "/console/review?lang=en", "qa.huang", violations)
    expect(qa.locator("#nav-review")).to_have_text("QA review")
    row = qa.locator(f'#review-queue tr[data-conversation="{conv}"]')
    expect(row).to_contain_text("Flagged")
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("李娜")
    qa.screenshot(path=str(tmp_path / "review-queue.png"))

    row.locator("a.open-review").click()
    expect(qa).to_have_url(re.compile(f"/console/review/{conv}$"))
    evidence = qa.locator(f'#transcript mark.evidence[data-finding="{finding}"]')
    expect(evidence).to_have_text("保本保收益")
    expect(evidence).to_be_visible()
    # The highlight sits inside the agent's message, the rest of the message around it.
    expect(qa.locator("#transcript .line--agent .line__text")).to_have_text(PROMISE)
    item = qa.locator(f'#findings li[data-finding="{finding}"]')
    expect(item).to_contain_text("Absolute promise")
    expect(item.locator(".verdict")).to_have_text("Pending")
    qa.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    item.locator(".finding__note").fill("promised returns on a wealth product")
    item.locator('button.judge[data-verdict="confirmed"]').click()
    expect(item.locator(".verdict")).to_have_text("Confirmed")
    expect(item).to_contain_text("promised returns on a wealth product")
    expect(evidence).to_have_attribute("data-verdict", "confirmed")
    qa.fill("#review-form input[name=score]", "55")
    qa.click("#review-form button[type=submit]")
    expect(qa.locator("#review-status")).to_contain_text("Review saved")

    qa.goto(f"{base}/console/review/agreement")
    rule = qa.locator('#agreement tr[data-rule="absolute_promise"]')
    expect(rule.locator("td.reviewed")).to_have_text("1")
    expect(rule.locator("td.confirmed")).to_have_text("1")
    expect(rule.locator("td.rate")).to_have_text("100%")
    qa.screenshot(path=str(tmp_path / "agreement.png"), full_page=True)
    # Judged and scored, the conversation has left the queue for the reviewed list.
    qa.goto(f"{base}/console/review")
    expect(qa.locator(f'#review-queue tr[data-conversation="{conv}"]')).to_have_count(0)
    qa.goto(f"{base}/console/review/done")
    expect(qa.locator(f'#review-queue tr[data-conversation="{conv}"]')).to_contain_text("55")
    assert violations == []


def test_a_supervisor_assigns_coaching_and_the_agent_finishes_it(desk, flagged, browser, tmp_path):  # noqa: F811
    base = desk["server"].base
    violations: list[str] = []
    sup = staff_page(browser, base, "/console/quality?lang=en", "sup.liu", violations)
    sup.locator("#agents-quality a", has_text="李娜").click()
    suggestion = sup.locator('#coaching-suggestions li[data-rule="absolute_promise"]')
    expect(suggestion).to_contain_text("Avoid promising returns; use the compliant wording from the pack")
    expect(suggestion.locator("a.example")).to_have_count(2)
    suggestion.locator("button.use-suggestion").click()
    expect(sup.locator("#assign input[name=title]")).to_have_value(
        "Avoid promising returns; use the compliant wording from the pack"
    )
    sup.click("#assign button[type=submit]")
    item = sup.locator("#coaching-items tr[data-item]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Assigned")
    expect(suggestion).to_contain_text("Coaching assigned")
    sup.screenshot(path=str(tmp_path / "quality.png"), full_page=True)

    agent = sign_in(browser, base, "agent.li", "en")
    agent.click("#nav-quality")
    expect(agent.locator("#agent-quality h1")).to_have_text("My quality")
    mine = agent.locator("#coaching-items tr[data-item]")
    expect(mine).to_contain_text("Avoid promising returns")
    mine.locator(".coaching__note").fill("Read the compliant wording")
    mine.locator('button.set-status[data-status="done"]').click()
    expect(agent.locator("#coaching-items tr[data-item] .status")).to_have_text("Done")
    agent.screenshot(path=str(tmp_path / "my-quality.png"), full_page=True)

    sup.reload()
    expect(sup.locator("#coaching-items tr[data-item]")).to_contain_text("Read the compliant wording")
    assert violations == []
