"""`helixdesk drift report` prints a day's measures against its reference and its alarms (a table
or JSON); `helixdesk drift retrain-weekly` runs the week's job once and says what it did."""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from helixdesk.cli import drift as cli
from helixdesk.cli.drift import app
from helixdesk.core.timezones import zone
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.drift.judge import DriftJudge
from helixdesk.packs.loader import load_pack
from tests.drift_data import days_ago, stored_day

runner = CliRunner()
FIRST = days_ago(10)  # the flooded day two days ago
FLOOD = FIRST + timedelta(days=8)


@pytest.fixture
def database(sqlite_url, model_root, monkeypatch):
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        for i in range(8):
            stored_day(s, FIRST + timedelta(days=i), 100, {"余额": 400, "查询": 400}, oos=6)
        stored_day(s, FLOOD, 100, {"余额": 200, "数币": 200, "硬钱包": 100}, oos=40)
    DriftJudge(sessions=sessions, tz=zone("Asia/Shanghai"), pack_path=load_pack("retail_bank").path).run()
    engine.dispose()
    monkeypatch.setenv("HELIXDESK_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HELIXDESK_MODEL_DIR", str(model_root))
    monkeypatch.setenv("HELIXDESK_BANK_TIMEZONE", "Asia/Shanghai")
    return sqlite_url


def test_the_report_of_a_day_as_json_and_as_tables(database, monkeypatch):
    result = runner.invoke(app, ["report", "--day", FLOOD.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["day"] == FLOOD.isoformat()
    assert [c["scope"] for c in body["scopes"]] == ["all", "zh-Hans", "zh-Hant", "en"]
    every = {m["name"]: m for m in body["scopes"][0]["measures"]}
    assert body["scopes"][0]["reference"] == {
        "kind": "window",
        "first": (FLOOD - timedelta(days=28)).isoformat(),
        "last": (FLOOD - timedelta(days=1)).isoformat(),
        "messages": 800,
    }
    assert every["oos_rate"]["value"] == 0.4 and every["oos_rate"]["reference"] == 0.06
    assert every["oos_rate"]["beyond"] and every["new_vocabulary"]["beyond"]
    assert not every["confidence"]["beyond"]
    assert body["scopes"][2]["measures"][0]["why"] == "too_few_messages"  # no zh-Hant that day
    assert {a["measure"] for a in body["alarms"] if a["scope"] == "all"} == {"oos_rate", "new_vocabulary"}

    monkeypatch.setattr(cli.out, "width", 200)
    result = runner.invoke(app, ["report", "--day", FLOOD.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"{FLOOD} all: 100 messages; reference window" in result.stdout
    assert "ALARM" in result.stdout and "40.0%" in result.stdout and "no (too_few_messages)" in result.stdout
    assert "alarm " in result.stdout and "new_vocabulary (all) open" in result.stdout


def test_a_bad_day_is_refused_with_a_stable_code(database):
    result = runner.invoke(app, ["report", "--day", "2026-13-01"])
    assert result.exit_code == 2 and "error[bad_date]" in result.output


def test_the_weekly_job_runs_once_a_week_and_says_what_it_did(database):
    """With the model registry installed, a database without labels has nothing to propose;
    without it, the job says so."""
    registry = importlib.util.find_spec("helixdesk.learning") is not None
    expected = "no_new_labels: no label resolved since" if registry else "unavailable: no model registry"
    result = runner.invoke(app, ["retrain-weekly"])
    assert result.exit_code == 0, result.output
    first = result.stdout.strip()
    assert expected in first, first
    again = runner.invoke(app, ["retrain-weekly"])
    assert again.exit_code == 0 and again.stdout.strip() == first
    forced = runner.invoke(app, ["retrain-weekly", "--force"])
    assert forced.exit_code == 0 and expected in forced.stdout
