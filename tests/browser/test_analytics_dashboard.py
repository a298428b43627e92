"""The historical dashboard in Debian's Chromium, over the analytics fixture (tests/analytics_data.py:
seven conversations with known outcomes, 2026-11-02 to 2026-11-05 in the bank's time).

A supervisor sees the figures computed by hand; the containment chart has its aria description
(ECharts' aria-label, in the page's language) and its data table; a drill-down from the containment
card, from a chart point and from a data-table cell reaches exactly the conversations behind the
figure, each linking to its conversation; the CSV exports download; nothing breaks the CSP. An agent
is refused the page.

The service-effect evaluation reads the effect fixture (tests/effect_data.py, the week of 16
November in the same database): a manager picks a knowledge entry from those cited and sees the
figures computed from the fixture's rows, the forest plot's description and the verdicts; a bad
day and a change that touched nothing are said so."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from tests.analytics_data import EXPECTED_DRILL, FIRST, LAST, consume, seed
from tests.browser.test_agent_console import browser  # noqa: F401 (the fixture is used by name)
from tests.effect_data import ENTRY, ROWS, SECTION, expected_effect, seed_effect
from tests.effect_data import FIRST as EFFECT_FIRST
from tests.effect_data import LAST as EFFECT_LAST
from tests.serverproc import Server

pytestmark = pytest.mark.browser
PASSWORD = "analytics-fixture-pw"  # the fixture's demo staff
PERIOD = f"period=custom&from={FIRST}&to={LAST}"
EFFECT_PERIOD = f"period=custom&from={EFFECT_FIRST}&to={EFFECT_LAST}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, model_root: Any) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("analytics")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    ids = seed(sessions)
    seed_effect(sessions)  # a later week: the figures of the first one stay as they are
    consume(sessions)
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"base": server.base, "ids": ids}
    server.stop()


def signed_in(browser: Browser, base: str, path: str, username: str, violations: list[str]) -> Page:  # noqa: F811
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()

    def seen(m: ConsoleMessage) -> None:
        if "Content Security Policy" in m.text:
            violations.append(m.text)

    page.on("console", seen)
    page.on("pageerror", lambda e: violations.append(str(e)))
    page.goto(f"{base}{path}")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    return page


def ready(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-analytics-ready", "true", timeout=20000)


def listed(page: Page, ids: dict[str, str]) -> set[str]:
    """The fixture's names of the conversations the drill-down lists (every page of it)."""
    ready(page)
    expect(page.locator("#drill-total")).not_to_have_text("")
    more = page.locator("#drill-more")
    while more.is_visible():
        count = page.locator("#drill-table tbody tr").count()
        more.click()
        expect(page.locator("#drill-table tbody tr")).not_to_have_count(count)
    back = {v: k for k, v in ids.items()}
    shown = page.locator("#drill-table tbody tr[data-conversation]").evaluate_all(
        "rows => rows.map(r => r.dataset.conversation)"
    )
    return {back[c] for c in shown}


def test_the_dashboard_shows_the_fixture_with_described_charts_and_tables(site, browser):  # noqa: F811
    violations: list[str] = []
    page = signed_in(browser, site["base"], f"/console/analytics?{PERIOD}&lang=en", "sup.liu", violations)
    ready(page)
    expect(page.locator("#nav-analytics")).to_have_text("Analytics")
    expect(page.locator("#an-error")).to_be_hidden()
    expect(page.locator('#cards [data-metric="volume"] .an__value')).to_have_text("7")
    expect(page.locator('#cards [data-metric="containment"] .an__value')).to_have_text("50%")
    expect(page.locator('#cards [data-metric="containment"] .an__frac')).to_have_text("3 / 6")

    # The chart: ECharts' aria-label on the container, our description with the figures as shown.
    chart = page.locator('[data-chart="containment"]')
    canvas = chart.locator(".chart__canvas")
    expect(canvas).to_have_attribute("role", "img")
    label = canvas.get_attribute("aria-label") or ""
    assert label.startswith(
        "Containment and handoff rate per day, line chart: Containment: 2026-11-02 25%"
    ), label
    assert "2026-11-04 –" in label and "2026-11-05 100%" in label, label

    # Its data table: a caption, column and row headers, a row per day, the same figures.
    table = chart.locator("table.chart__table")
    expect(table.locator("caption")).to_have_text("Containment and handoff rate per day")
    assert table.locator("thead th").evaluate_all("ths => ths.map(t => t.scope)") == ["col", "col", "col"]
    expect(table.locator("tbody th[scope=row]")).to_have_text(
        ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
    )
    chart.locator("summary").click()
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text("25%")
    volume = page.locator('[data-chart="volume"] table.chart__table tbody td')
    expect(volume).to_have_text(["4", "2", "0", "1"])

    # The breakdowns are worded with the pack's labels, never their codes.
    reasons = page.locator('[data-chart="handoff_reasons"] table.chart__table tbody th')
    expect(reasons).to_have_count(2)
    assert "customer_request" not in " ".join(reasons.all_inner_texts())
    # The agents who held the handed-off conversations, by name, their figures linking to theirs.
    li = page.locator("#agents tbody tr[data-agent]", has_text="李娜")
    expect(li).to_have_count(1)
    expect(li.locator("td").first).to_have_text("1")

    # The window narrows: the charts follow it.
    before = canvas.bounding_box()
    page.set_viewport_size({"width": 900, "height": 1000})
    page.wait_for_function(
        "w => document.querySelector('[data-chart=containment] canvas').getBoundingClientRect().width !== w",
        arg=before["width"] if before else 0,
    )
    # Tooltips are drawn on the canvas, never as HTML with inline styles the CSP would refuse.
    canvas.hover()
    page.locator('[data-chart="emotions"] .chart__canvas').hover()
    assert violations == [], violations
    page.context.close()


def test_a_drill_down_from_containment_reaches_the_right_conversations(site, browser):  # noqa: F811
    violations: list[str] = []
    ids = site["ids"]
    page = signed_in(browser, site["base"], f"/console/analytics?{PERIOD}&lang=en", "sup.liu", violations)
    ready(page)

    # The card's figure: the contained conversations.
    page.locator('#cards [data-metric="containment"] .an__value').click()
    expect(page).to_have_url(re.compile(r"/console/analytics/conversations\?.*metric=containment"))
    assert listed(page, ids) == EXPECTED_DRILL[("containment", "yes")]
    expect(page.locator("#drill-total")).to_have_text("3 conversations")
    # The denominator: every engaged conversation, contained or not.
    page.go_back()
    ready(page)
    page.locator('#cards [data-metric="containment"] .an__denominator').click()
    assert listed(page, ids) == EXPECTED_DRILL[("containment", "yes")] | EXPECTED_DRILL[("containment", "no")]

    # A point of the chart: the first day's contained conversations (c1 of c1-c4).
    page.go_back()
    ready(page)
    point = page.evaluate(
        """() => {
          const box = document.querySelector('[data-chart=containment] .chart__canvas');
          box.scrollIntoView({block: 'center'});
          const chart = echarts.getInstanceByDom(box);
          const [x, y] = chart.convertToPixel({seriesIndex: 0}, [0, 25]);
          const r = box.getBoundingClientRect();
          return [r.left + x, r.top + y];
        }"""
    )
    page.mouse.click(point[0], point[1])
    expect(page).to_have_url(re.compile(r"day=2026-11-02"))
    assert listed(page, ids) == {"c1"}

    # A cell of the data table: the last day's (c5), and the conversation it links to.
    page.go_back()
    ready(page)
    chart = page.locator('[data-chart="containment"]')
    chart.locator("summary").click()
    chart.locator("table.chart__table tbody tr").nth(3).locator("td a").first.click()
    expect(page).to_have_url(re.compile(r"day=2026-11-05"))
    assert listed(page, ids) == {"c5"}
    first = page.locator("#drill-table tbody tr[data-conversation] a.an__conv").first
    expect(first).to_have_attribute("href", f"/console/conversations/{ids['c5']}")
    assert violations == [], violations
    page.context.close()


def test_the_csv_exports_download(site, browser, tmp_path):  # noqa: F811
    violations: list[str] = []
    ids = site["ids"]
    page = signed_in(browser, site["base"], f"/console/analytics?{PERIOD}&lang=en", "sup.liu", violations)
    ready(page)
    with page.expect_download() as got:
        page.click("#export-csv")
    text = got.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["metric", "value"]
    assert rows[1][0] == "volume" and float(rows[1][1]) == 7

    page.goto(
        f"{site['base']}/console/analytics/conversations?{PERIOD}&metric=sla_compliance&outcome=no&lang=en"
    )
    assert listed(page, ids) == EXPECTED_DRILL[("sla_compliance", "no")]
    with page.expect_download() as got:
        page.click("#export-drill-csv")
    listed_rows = list(csv.DictReader(io.StringIO(got.value.path().read_text(encoding="utf-8-sig"))))
    assert {r["id"] for r in listed_rows} == {ids[n] for n in EXPECTED_DRILL[("sla_compliance", "no")]}
    assert violations == [], violations
    page.context.close()


@pytest.mark.parametrize(
    ("lang", "title", "described"),
    [
        (
            "zh-Hans",
            "服务数据看板",
            "每日机器人独立解决率与转人工率（折线图）：机器人独立解决率：2026-11-02为25%",
        ),
        (
            "zh-Hant",
            "服務數據看板",
            "每日機械人獨立解決率與轉真人率（折線圖）：機械人獨立解決率：2026-11-02為25%",
        ),
    ],
)
def test_the_dashboard_in_chinese(site, browser, lang, title, described):  # noqa: F811
    violations: list[str] = []
    page = signed_in(browser, site["base"], f"/console/analytics?{PERIOD}&lang={lang}", "sup.liu", violations)
    ready(page)
    expect(page.locator("h1")).to_have_text(title)
    label = page.locator('[data-chart="containment"] .chart__canvas').get_attribute("aria-label") or ""
    assert label.startswith(described), label
    # ECharts draws in the page's locale (ZH, or the Traditional one we register).
    locale = page.evaluate("() => HelixCharts.locale()")
    assert locale == {"zh-Hans": "ZH", "zh-Hant": "ZH-HANT"}[lang]
    assert violations == [], violations
    page.context.close()


def test_a_manager_reads_the_dashboard(site, browser):  # noqa: F811
    violations: list[str] = []
    page = signed_in(browser, site["base"], f"/console/analytics?{PERIOD}&lang=en", "mgr.gao", violations)
    ready(page)
    expect(page.locator("#nav-analytics")).to_be_visible()
    expect(page.locator('#cards [data-metric="volume"] .an__value')).to_have_text("7")
    assert violations == [], violations
    page.context.close()


def test_an_agent_may_not_read_the_dashboard(site, browser):  # noqa: F811
    violations: list[str] = []
    page = signed_in(browser, site["base"], "/console?lang=en", "agent.li", violations)
    expect(page.locator("#queue")).to_be_visible()
    expect(page.locator("#nav-analytics")).to_have_count(0)
    r = page.request.get(f"{site['base']}/console/analytics")
    assert r.status == 403
    page.context.close()


# ---- the service-effect evaluation -----------------------------------------------------------------
# The page's figures in English (Intl.NumberFormat "en"): a score with one or two decimals, a ratio
# as a percentage, a difference signed (two decimals of the score, or percentage points of a ratio).
OUTCOME_NAMES = {
    "csat": "CSAT",
    "repeat_contact": "Repeat contact within 7 days",
    "fcr": "First-contact resolution",
    "retention": "Retention",
}
BETTER = {"csat": "higher", "repeat_contact": "lower", "fcr": "higher", "retention": "higher"}


def _mean(key: str, value: float) -> str:
    if key == "csat":
        text = f"{value:.2f}"
        return text[:-1] if text.endswith("0") else text
    return f"{value * 100:.1f}".removesuffix(".0") + "%"


def _signed(key: str, value: float) -> str:
    return f"{value:+.2f}" if key == "csat" else f"{value * 100:+.1f}"


def _verdict(key: str, e: dict[str, float]) -> str:
    if e["ci_low"] <= 0 <= e["ci_high"]:
        return "No clear effect (the interval crosses zero)"
    higher = e["difference"] > 0
    good = higher == (BETTER[key] == "higher")
    return f"{'Better' if good else 'Worse'}: {'higher' if higher else 'lower'} than comparable"


def test_a_manager_evaluates_a_knowledge_entry(site, browser):  # noqa: F811
    violations: list[str] = []
    page = signed_in(
        browser, site["base"], f"/console/analytics?{EFFECT_PERIOD}&lang=en", "mgr.gao", violations
    )
    ready(page)
    # From the dashboard, in its period.
    page.click("#effect-link")
    expect(page).to_have_url(re.compile(rf"/console/analytics/effect\?.*from={EFFECT_FIRST}"))
    ready(page)
    expect(page.locator("h1")).to_have_text("Service analytics › Service effect")
    expect(page.locator("#effect-result")).to_be_hidden()

    # The choices: the entries the answers cited, the most touched first.
    cited: dict[str, int] = {}
    for row in ROWS:
        for ref in row.cites:
            cited[ref] = cited.get(ref, 0) + 1
    ranked = sorted(cited.items(), key=lambda kv: (-kv[1], kv[0]))
    expect(page.locator("#effect-knowledge option")).to_have_text([f"{ref} ({n})" for ref, n in ranked])
    assert SECTION in cited
    page.select_option("#effect-kind", "queue")
    expect(page.locator("#effect-queue")).to_be_visible()
    expect(page.locator("#effect-knowledge")).to_be_hidden()
    queues = sum(1 for r in ROWS if r.queue == "general")
    expect(page.locator("#effect-queue option").first).to_have_text(f"General ({queues})")

    page.select_option("#effect-kind", "knowledge")
    page.select_option("#effect-knowledge", ENTRY)
    page.click("#effect-run")
    expect(page).to_have_url(re.compile(r"change=knowledge%3Acard-activate-app"))
    ready(page)
    expect(page.locator("#an-error")).to_be_hidden()

    touched = {r.name for r in ROWS if ENTRY in r.cites}
    untouched = {(r.intent, r.language) for r in ROWS if r.name not in touched}
    left_out = sum(1 for r in ROWS if r.name in touched and (r.intent, r.language) not in untouched)
    expect(page.locator("#effect-what")).to_have_text(
        f'Knowledge entry the bot answered from "{ENTRY}": {len(touched)} conversations touched '
        f"from {EFFECT_FIRST} to {EFFECT_LAST}."
    )
    expect(page.locator("#effect-left-out")).to_have_text(
        re.compile(rf"^{left_out} of them had no comparable")
    )

    expected = expected_effect(touched)
    described = []
    for key, e in expected.items():
        row = page.locator(f'#effect-table tbody tr[data-outcome="{key}"]')
        suffix = "" if key == "csat" else " pts"
        difference = _signed(key, e["difference"]) + suffix
        interval = f"{_signed(key, e['ci_low'])} to {_signed(key, e['ci_high'])}{suffix}"
        expect(row.locator("th")).to_have_text(OUTCOME_NAMES[key])
        expect(row.locator("td").nth(0)).to_have_text(BETTER[key])
        expect(row.locator(".an__touched")).to_have_text(
            f"{_mean(key, e['touched_mean'])} (n = {e['touched']:.0f})"
        )
        expect(row.locator(".an__comparable")).to_have_text(
            f"{_mean(key, e['comparable_mean'])} (n = {e['comparable']:.0f})"
        )
        expect(row.locator(".an__difference")).to_have_text(difference)
        expect(row.locator(".an__interval")).to_have_text(interval)
        expect(row.locator(".an__verdict")).to_have_text(_verdict(key, e))
        described.append(f"{OUTCOME_NAMES[key]} {difference} (95% interval {interval})")
    # The fixture's story: CSAT clearly higher, the other two within the noise.
    expect(page.locator('#effect-table tr[data-outcome="csat"] .an__verdict')).to_have_text(
        "Better: higher than comparable"
    )
    expect(page.locator('#effect-table tr[data-outcome="fcr"] .an__verdict')).to_have_text(
        "No clear effect (the interval crosses zero)"
    )

    # The forest plot: its description (ECharts' aria-label) and its data table.
    chart = page.locator('[data-chart="effect"]')
    canvas = chart.locator(".chart__canvas")
    expect(canvas).to_have_attribute("role", "img")
    title = "Effect: difference and 95% interval"
    expect(canvas).to_have_attribute("aria-label", f"{title}, forest plot: " + "; ".join(described) + ".")
    table = chart.locator("table.chart__table")
    expect(table.locator("caption")).to_have_text(title)
    expect(table.locator("tbody th[scope=row]")).to_have_text(list(OUTCOME_NAMES.values()))
    expect(table.locator("tbody tr").first.locator("td")).to_have_text(
        [_signed("csat", expected["csat"]["difference"]), described[0].split("interval ")[1].rstrip(")")]
    )
    canvas.hover()
    assert violations == [], violations
    page.context.close()


def test_a_bad_day_and_a_change_that_touched_nothing_are_said(site, browser):  # noqa: F811
    violations: list[str] = []
    path = f"/console/analytics/effect?{EFFECT_PERIOD}&change=after:2026-02-30&lang=en"
    page = signed_in(browser, site["base"], path, "sup.liu", violations)
    ready(page)
    expect(page.locator("#an-error")).to_have_text(
        "That change is not valid: choose a knowledge entry, a queue or a handoff reason, "
        "or give a real date (YYYY-MM-DD)."
    )
    expect(page.locator("#effect-result")).to_be_hidden()
    expect(page.locator("#effect-kind")).to_have_value("after")
    expect(page.locator("#effect-after")).to_be_visible()

    page.goto(f"{site['base']}/console/analytics/effect?{EFFECT_PERIOD}&change=knowledge:no-such-entry")
    ready(page)
    expect(page.locator("#an-error")).to_be_hidden()
    expect(page.locator("#effect-empty")).to_have_text(
        "This change touched no conversation in this period (and filters)."
    )
    expect(page.locator("#effect-table")).to_be_hidden()
    expect(page.locator("#effect-charts")).to_be_hidden()
    assert violations == [], violations
    page.context.close()
