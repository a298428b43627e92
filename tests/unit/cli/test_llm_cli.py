"""`helixdesk llm check | usage` through Typer's CliRunner, against the local fake of the chat API."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from helixdesk.cli.llm import app
from tests.llm_fake import MODEL, FakeLlm

runner = CliRunner()


@pytest.fixture
def fake(sqlite_url, monkeypatch):  # type: ignore[no-untyped-def]
    with FakeLlm() as server:
        monkeypatch.setenv("HELIXDESK_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("HELIXDESK_LLM_ENABLED", "true")
        monkeypatch.setenv("HELIXDESK_LLM_BASE_URL", server.url)
        monkeypatch.setenv("HELIXDESK_LLM_MODEL", "local-instruct")
        monkeypatch.setenv("HELIXDESK_LLM_COST_PER_1K_INPUT_TOKENS", "1")
        yield server


def test_check_asks_one_question_without_data_and_usage_counts_it(fake: FakeLlm) -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert f"{fake.url}/v1/chat/completions (local-instruct): answered 'OK'" in result.stdout
    assert f"model {MODEL}" in result.stdout
    [body] = fake.requests
    assert body["messages"][1]["content"] == "Are you there?"
    result = runner.invoke(app, ["usage", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)["uses"]
    prompt = sum(len(m["content"]) for m in body["messages"])
    assert row == {
        "use": "check",
        "calls": 1,
        "used": 1,
        "fallbacks": {},
        "prompt_tokens": prompt,
        "completion_tokens": 2,
        "estimated_calls": 0,
        "cost": pytest.approx(prompt / 1000),
        "currency": "CNY",
        "mean_ms": row["mean_ms"],
        "p95_ms": row["p95_ms"],
    }
    table = runner.invoke(app, ["usage", "--days", "1"])
    assert table.exit_code == 0 and "check" in table.stdout


def test_check_says_why_there_is_no_answer(fake: FakeLlm, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.script("x", status=500)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2 and "error[llm_unavailable]" in result.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HELIXDESK_LLM_BASE_URL", f"http://127.0.0.1:{port}")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2 and "error[llm_unavailable]" in result.stderr
    monkeypatch.setenv("HELIXDESK_LLM_ENABLED", "false")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2 and "error[llm_off]" in result.stderr
