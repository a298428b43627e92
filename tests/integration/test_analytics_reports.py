"""The analytics PDF reports on the fixture of tests/analytics_data.py: the PDF's text holds the
summary's figures (and the hand-computed ones) in zh-Hans and English; the scheduler writes the
daily and weekly reports once each; the console downloads a report and the scheduled ones, path-safe;
bad input gets stable codes."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from helixdesk.analytics import schedule
from helixdesk.analytics.metrics import CostModel
from helixdesk.analytics.pdf import figure, render_pdf, word
from helixdesk.analytics.query import Days, Filters
from helixdesk.analytics.service import AnalyticsReader
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.edge.app import create_app
from helixdesk.handoff.packet import Labels
from helixdesk.packs.loader import load_pack
from tests.analytics_data import EXPECTED, FIRST, LAST, STAFF_PASSWORD, TZ, consume, seed
from tests.console_login import sign_in

PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}
LABELS = Labels.load(load_pack("retail_bank").path / "handoff" / "labels.yaml")


def text_of(data: bytes) -> str:
    """The PDF's text, its whitespace made single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def reader(sqlite_url, tmp_path):
    from helixdesk.db.session import make_engine, make_session_factory

    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    seed(sessions)
    consume(sessions)
    yield AnalyticsReader(
        sessions=sessions, tz=TZ, cost=CostModel(), labels=LABELS, reports_dir=str(tmp_path / "reports")
    )
    engine.dispose()


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_the_pdf_holds_the_summarys_figures(reader, language) -> None:
    days = Days(FIRST, LAST)
    summary = reader.summary(days, Filters())
    text = text_of(reader.pdf(days, Filters(), language=language))
    assert f"{FIRST} – {LAST}" in text
    for m in summary["metrics"]:
        unit, currency = m["unit"], m.get("currency", "")
        value = figure(unit, m["value"], language, currency)
        previous = figure(unit, m["previous"], language, currency)
        assert f"{word('metric', m['key'], language)} {value} {previous}" in text, (m, text)
    # ... which are the hand-computed ones.
    assert figure("ratio", EXPECTED["containment"], language) == "50.0%"
    assert f"{word('metric', 'containment', language)} 50.0%" in text
    assert f"{word('metric', 'volume', language)} 7 " in text
    assert f"{word('metric', 'cost_saved', language)} CNY 22.80" in text
    assert f"{word('metric', 'sla_compliance', language)} 33.3%" in text
    # The breakdowns, worded in the language: reasons and intents by the pack, agents by name.
    reason = LABELS.get("reason", "customer_request", language)
    assert f"{reason} 2" in text
    assert f"{LABELS.get('intent', 'card_activation', language)} 2" in text
    assert "李娜" in text and "王芳" in text
    assert word("text", "daily", language) in text


def test_a_bad_language_gets_a_stable_code(reader) -> None:
    with pytest.raises(ValidationFailedError) as e:
        reader.pdf(Days(FIRST, LAST), Filters(), language="fr")
    assert e.value.code == "invalid_language"
    with pytest.raises(ValidationFailedError):
        render_pdf({}, language="en", kind="decade")


def test_the_scheduler_writes_each_report_once(reader, tmp_path) -> None:
    folder = tmp_path / "reports"
    rendered: list[str] = []

    def render(report: schedule.Scheduled) -> bytes:
        rendered.append(report.name)
        return reader.pdf(report.days, Filters(), language="en", kind=report.kind)

    # Monday 9 November 2026, 08:00 in Shanghai: Sunday's report and the week of 2-8 November.
    monday = datetime(2026, 11, 9, 0, 0, tzinfo=UTC)
    written = schedule.write_due(folder, render, now=monday, tz=TZ)
    assert [p.name for p in written] == ["helixdesk-daily-2026-11-08.pdf", "helixdesk-weekly-2026-W45.pdf"]
    weekly = text_of((folder / "helixdesk-weekly-2026-W45.pdf").read_bytes())
    assert "Contact centre weekly report" in weekly and "Volume 7 " in weekly
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    # Again (a restart, a second analytics process): nothing is written.
    assert schedule.write_due(folder, render, now=monday, tz=TZ) == []
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # Just after midnight, before the grace time, Monday's report is not due yet; later it is.
    assert schedule.write_due(folder, render, now=datetime(2026, 11, 9, 16, 5, tzinfo=UTC), tz=TZ) == []
    tuesday = datetime(2026, 11, 9, 16, 30, tzinfo=UTC)  # 00:30 on Tuesday in Shanghai
    assert [p.name for p in schedule.write_due(folder, render, now=tuesday, tz=TZ)] == [
        "helixdesk-daily-2026-11-09.pdf"
    ]
    assert len(rendered) == 3
    assert all(r["kind"] in ("day", "week") and r["size"] > 0 for r in schedule.listed(folder))
    assert {r["name"] for r in reader.reports()} == set(before) | {"helixdesk-daily-2026-11-09.pdf"}

    # The reader's own run (today's clock) writes the due ones once.
    first = reader.write_scheduled(language="zh-Hans")
    assert len(first) in (1, 2) and reader.write_scheduled(language="zh-Hans") == []

    for name, code in (("../secrets.pdf", "invalid_report"), ("notes.txt", "invalid_report")):
        with pytest.raises(ValidationFailedError) as e:
            reader.report_file(name)
        assert e.value.code == code
    with pytest.raises(NotFoundError) as missing:
        reader.report_file("helixdesk-daily-2020-01-01.pdf")
    assert missing.value.code == "report_not_found"
    assert not list(folder.glob(".*.part"))


def test_the_schedule_is_in_the_banks_days() -> None:
    # 23:00 UTC on Sunday is 07:00 on Monday in Shanghai: the week just ended is due.
    due = schedule.due(datetime(2026, 11, 8, 23, 0, tzinfo=UTC), TZ)
    assert [(d.kind, d.days.first, d.days.last) for d in due] == [
        ("day", date(2026, 11, 8), date(2026, 11, 8)),
        ("week", date(2026, 11, 2), date(2026, 11, 8)),
    ]


@pytest.fixture
def desk(sqlite_url, settings_for, tmp_path):
    app = create_app(settings_for(sqlite_url, analytics_reports_dir=str(tmp_path / "reports")))
    with TestClient(app, follow_redirects=False) as client:
        sessions = client.app.state.container.sessions
        seed(sessions)
        consume(sessions)
        yield client


def as_user(client: TestClient, username: str) -> TestClient:
    client.headers.pop("X-CSRF-Token", None)
    sign_in(client, username, STAFF_PASSWORD)
    return client


def test_the_console_downloads_reports(desk, tmp_path) -> None:
    agent = as_user(desk, "agent.li")
    assert agent.get("/console/api/analytics/report.pdf", params=PERIOD).status_code == 403
    assert agent.get("/console/api/analytics/reports").status_code == 403
    manager = as_user(desk, "mgr.gao")
    r = manager.get("/console/api/analytics/report.pdf", params={**PERIOD, "lang": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and "attachment" in r.headers["content-disposition"]
    text = text_of(r.content)
    assert "Containment 50.0%" in text and "Volume 7 " in text
    # mgr.gao reads Chinese: the report is in the staff member's language unless asked.
    zh = text_of(manager.get("/console/api/analytics/report.pdf", params=PERIOD).content)
    assert "机器人独立解决率 50.0%" in zh
    filtered = text_of(
        manager.get(
            "/console/api/analytics/report.pdf", params={**PERIOD, "channel": "app", "lang": "en"}
        ).content
    )
    assert "Volume 2 " in filtered and "channel = app" in filtered
    for params, code in (
        ({"from": "2026-11-05", "to": "2026-11-01"}, "invalid_period"),
        ({"language": "fr"}, "invalid_language"),
    ):
        r = manager.get("/console/api/analytics/report.pdf", params=params)
        assert r.status_code in (400, 422) and r.json()["error"]["code"] == code, r.text
    assert manager.get("/console/api/analytics/report.pdf", params={"lang": "fr"}).status_code == 422

    assert manager.get("/console/api/analytics/reports").json() == {"reports": []}
    folder: Path = tmp_path / "reports"
    written = desk.app.state.container.analytics.write_scheduled(language="en")
    assert written and all(p.parent == folder for p in written)
    listed = manager.get("/console/api/analytics/reports").json()["reports"]
    assert {r["name"] for r in listed} == {p.name for p in written}
    name = listed[0]["name"]
    r = manager.get(f"/console/api/analytics/reports/{name}")
    assert r.status_code == 200 and r.content == (folder / name).read_bytes()
    assert r.headers["content-type"] == "application/pdf"
    r = manager.get("/console/api/analytics/reports/secrets.txt")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_report"
    r = manager.get("/console/api/analytics/reports/helixdesk-daily-2020-01-01.pdf")
    assert r.status_code == 404 and r.json()["error"]["code"] == "report_not_found"
    r = manager.get("/console/api/analytics/reports/..%2F..%2Fpyproject.toml")
    assert r.status_code in (404, 422)


def test_without_the_wenquanyi_font_the_builtin_cid_fonts_draw_chinese(reader, monkeypatch, tmp_path) -> None:
    import helixdesk.analytics.pdf as pdf

    monkeypatch.setattr(pdf, "WQY", tmp_path / "no-such-font.ttc")
    assert pdf.font_for("zh-Hant") == "MSung-Light" and pdf.font_for("zh-Hans") == "STSong-Light"
    text = text_of(reader.pdf(Days(FIRST, LAST), Filters(), language="zh-Hant"))
    assert "機械人獨立解決率 50.0%" in text and "客服中心報告" in text
