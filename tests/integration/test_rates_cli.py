"""`helixdesk rates` as an operator uses it (real subprocesses, real SQLite file)."""

from __future__ import annotations

import pytest

from tests.cliproc import helixdesk_cli

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


@pytest.fixture
def run(tmp_path):
    helixdesk = helixdesk_cli(
        tmp_path, env={"HELIXDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'rates.db'}"}, timeout=120
    )

    assert helixdesk("db", "upgrade").returncode == 0
    return helixdesk


def test_set_list_and_refuse_bad_input(run):
    done = run(
        "rates", "set", "USD", "--buy", "7.1012", "--sell", "7.1308", "--as-of", "2026-11-23T09:30:00+08:00"
    )
    assert done.returncode == 0, done.stderr
    listed = run("rates", "list")
    assert "USD" in listed.stdout and "7.1012" in listed.stdout and "7.1308" in listed.stdout
    assert "2026-11-23T09:30:00+08:00" in listed.stdout  # in the bank's time zone (Asia/Shanghai)
    bad = run("rates", "set", "USD", "--buy", "7.2", "--sell", "7.1")
    assert bad.returncode == 2 and "error[invalid_rate]" in bad.stderr
    assert "7.1012" in run("rates", "list").stdout  # unchanged
    bad_cur = run("rates", "set", "US1", "--buy", "1", "--sell", "2")
    assert bad_cur.returncode == 2 and "error[invalid_currency]" in bad_cur.stderr


def test_import_is_all_or_nothing_with_line_numbers(run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "currency,buy,sell,as_of\nEUR,7.68,7.74,2026-11-23T09:30:00+08:00\nGBP,abc,9.01,\nHKD,0.92,0.91,\nEUR,7.7,7.8,\n",
        encoding="utf-8",
    )
    result = run("rates", "import", str(bad))
    assert result.returncode == 2
    assert "error[rates_import_invalid]" in result.stderr
    assert "line 3" in result.stderr and "line 4" in result.stderr and "line 5" in result.stderr
    assert "EUR" not in run("rates", "list").stdout  # nothing written
    good = tmp_path / "good.csv"
    good.write_text("currency,buy,sell\nEUR,7.6843,7.7412\njpy,0.046721,0.047065\n", encoding="utf-8")
    done = run("rates", "import", str(good))
    assert done.returncode == 0, done.stderr
    listed = run("rates", "list").stdout
    assert "EUR" in listed and "JPY" in listed and "0.046721" in listed


def test_seed_demo(run):
    done = run("rates", "seed-demo", "--as-of", "2026-11-23")
    assert done.returncode == 0, done.stderr
    assert "demo" in done.stdout
    listed = run("rates", "list").stdout
    for cur in ("USD", "EUR", "HKD", "JPY"):
        assert cur in listed
