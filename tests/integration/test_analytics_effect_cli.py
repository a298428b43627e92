"""`helixdesk analytics effect` over the effect fixture (tests/effect_data.py): the table with a
verdict per outcome and the conversations left out; the JSON; a bad change's stable code."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from helixdesk.cli import analytics as cli
from helixdesk.cli.analytics import app
from helixdesk.db.session import make_engine, make_session_factory
from tests.analytics_data import consume
from tests.effect_data import ENTRY, FIRST, LAST, seed_effect

runner = CliRunner()
SPAN = ["--from", FIRST.isoformat(), "--to", LAST.isoformat()]


@pytest.fixture
def database(sqlite_url, monkeypatch):
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    seed_effect(sessions)
    consume(sessions)
    engine.dispose()
    monkeypatch.setenv("HELIXDESK_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HELIXDESK_BANK_TIMEZONE", "Asia/Shanghai")
    return sqlite_url


def test_the_effect_of_an_entry_with_its_verdicts(database, monkeypatch):
    monkeypatch.setattr(cli.out, "width", 220)  # the table on one line per outcome
    result = runner.invoke(app, ["effect", f"knowledge:{ENTRY}", *SPAN, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["touched"] == 5 and body["left_out"] == 1
    assert {o["key"]: o["verdict"] for o in body["outcomes"]} == {
        "csat": "better",
        "repeat_contact": "no_clear_effect",
        "fcr": "no_clear_effect",
        "retention": "no_clear_effect",  # the pack's churn rules over the fixture's bank history
    }
    assert body["retention_observed_through"] == "2026-11"
    result = runner.invoke(app, ["effect", f"knowledge:{ENTRY}", *SPAN])
    assert result.exit_code == 0, result.output
    assert "better (higher is better)" in result.stdout
    assert "no clear effect (lower is better)" in result.stdout
    assert "5 conversations touched; 1 left out" in result.stdout
    assert "retention observed through 2026-11" in result.stdout


def test_a_bad_day_gets_a_stable_code(database):
    result = runner.invoke(app, ["effect", "after:2026-02-30", *SPAN])
    assert result.exit_code == 2
    assert "error[invalid_change]" in result.stderr
