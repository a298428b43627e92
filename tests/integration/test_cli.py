"""The `helixdesk` command line as an operator uses it (real subprocesses, real SQLite file)."""

from __future__ import annotations

import json

import pytest

from tests.cliproc import helixdesk_cli

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


@pytest.fixture
def run(tmp_path, server_env):
    helixdesk = helixdesk_cli(
        tmp_path, env={"HELIXDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **server_env}
    )

    return helixdesk


def test_migrate_seed_and_refuse_to_seed_twice(run):
    assert run("db", "upgrade").returncode == 0
    seeded = run("bank", "seed", "--customers", "5", "--as-of", "2026-11-23")
    assert seeded.returncode == 0, seeded.stderr
    assert "customers" in seeded.stdout
    again = run("bank", "seed", "--customers", "5")
    assert again.returncode == 2
    assert "error[bank_not_empty]" in again.stderr
    assert run("bank", "seed", "--if-empty").returncode == 0
    assert run("bank", "seed", "--customers", "3", "--reset").returncode == 0


def test_import_reports_lines_and_writes_nothing(run, tmp_path):
    assert run("db", "upgrade").returncode == 0
    bad = tmp_path / "bank.json"
    bad.write_text('{"customers": [\n  {"ref": "X1"}\n]}', encoding="utf-8")
    result = run("bank", "import", str(bad))
    assert result.returncode == 2
    assert "error[bank_import_invalid]" in result.stderr
    assert "line 2 (customers[0].name_zh)" in result.stderr
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "customers": [
                    {
                        "ref": "X1",
                        "name_zh": "测试",
                        "name_en": "Test",
                        "gender": "F",
                        "birth_date": "1990-01-01",
                        "segment": "mass",
                        "value_tier": "gold",
                        "risk_tolerance": "balanced",
                        "preferred_language": "en",
                        "phone": "+8613800000000",
                        "city": "上海",
                        "customer_since": "2020-01-01",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    ok = run("bank", "import", str(good))
    assert ok.returncode == 0, ok.stderr
    clash = run("bank", "import", str(good))
    assert clash.returncode == 2 and "customer X1 already exists" in clash.stderr


def test_bad_as_of_date(run):
    run("db", "upgrade")
    result = run("bank", "seed", "--as-of", "yesterday")
    assert result.returncode == 2 and "error[bad_date]" in result.stderr


def test_terminal_chat_in_two_languages(run):
    run("db", "upgrade")
    run("bank", "seed", "--customers", "2")
    result = run("chat", "--customer", "C000001", stdin="你好\nhello there\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "您好" in result.stdout
    assert "How can I help" in result.stdout
