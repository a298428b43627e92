"""The release gate in CI: a small seeded run of persona customers through the real app (the public
API, the real bot with this run's models, the demo bank) passes the pack's gate, and a scenario
whose expectation is broken on purpose makes it fail, in the report and as the command's exit code."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from helixdesk.cli.simulate import RunOptions, run_simulation
from helixdesk.core.settings import Settings
from helixdesk.packs.loader import load_pack
from helixdesk.simulation.personas import PERSONAS
from helixdesk.simulation.plan import plan
from helixdesk.simulation.report import build_report
from helixdesk.simulation.scenarios import load_simulation
from tests.cliproc import helixdesk_cli

PACK = load_pack("retail_bank")
CI_CONVERSATIONS, CI_SEED = 16, 3  # every persona twice


def _settings(model_root: Path) -> Settings:
    return Settings(_env_file=None, model_dir=model_root, nlu_process=False)  # type: ignore[call-arg]


def _broken_scenarios(folder: Path) -> Path:
    """The pack's scenarios with one expectation broken: a scam report expected in the general queue."""
    raw = yaml.safe_load((PACK.path / "simulation" / "scenarios.yaml").read_text(encoding="utf-8"))
    scam = next(s for s in raw["scenarios"] if s["id"] == "scam-report")
    assert scam["expect"]["handoff"] == "fraud"
    scam["expect"]["handoff"] = "general"
    path = folder / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _run(
    model_root: Path,
    folder: Path,
    count: int,
    seed: int,
    *,
    file: Path | None = None,
    only: tuple[str, ...] = (),
) -> dict:
    sim = load_simulation(PACK, scenarios=file)
    planned = plan(sim, count, seed, scenarios=only)
    options = RunOptions(seed=seed, database=f"sqlite:///{folder / 'helixdesk.db'}", customers=120)
    outcomes, run = asyncio.run(run_simulation(_settings(model_root), sim, planned, options))
    return build_report(outcomes, sim.gate, run)


@pytest.mark.timeout(900)
def test_a_small_seeded_run_passes_the_release_gate(model_root, tmp_path):
    report = _run(model_root, tmp_path, CI_CONVERSATIONS, CI_SEED)
    failing = [
        (c["number"], c["scenario"], c["persona"], c["unmet"], c["handoff"], c["invented_numbers"])
        for c in report["conversations"]
        if not c["completed"] or c["invented_numbers"] or c["handoff_verdict"] == "wrong"
    ]
    assert report["gate"]["passed"], (report["gate"]["checks"], failing)
    assert set(report["by_persona"]) == set(PERSONAS)
    assert report["overall"]["conversations"] == CI_CONVERSATIONS
    # Every customer message was answered and timed; scam reports reached the fraud team.
    assert all(c["response_ms"] and c["messages"] >= 1 for c in report["conversations"])
    scams = [c for c in report["conversations"] if c["scenario"] == "scam-report"]
    assert scams and all(c["handoff"]["queue"] == "fraud" for c in scams)
    # A customer who verified typed the code the bot sent (it is masked in the transcript).
    balance = [c for c in report["conversations"] if c["scenario"] == "check-balance" and c["completed"]]
    assert balance and all(any("••••••" in t["customer"] for t in c["transcript"]) for c in balance), (
        "no one-time code was typed"
    )


@pytest.mark.timeout(900)
def test_a_broken_expectation_makes_the_gate_fail(model_root, tmp_path):
    broken = _broken_scenarios(tmp_path)
    report = _run(model_root, tmp_path, 3, 5, file=broken, only=("scam-report",))
    assert not report["gate"]["passed"]
    checks = {c["name"]: c for c in report["gate"]["checks"]}
    assert not checks["wrong_handoffs"]["passed"] and checks["wrong_handoffs"]["value"] == 3
    assert all(c["handoff"]["queue"] == "fraud" and not c["completed"] for c in report["conversations"])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_command_exits_1_when_the_gate_fails(model_root, tmp_path):
    broken = _broken_scenarios(tmp_path)
    env = {
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_NLU_PROCESS": "false",
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    helixdesk = helixdesk_cli(tmp_path, env=env, timeout=600)
    args = ("simulate", "--conversations", "2", "--scenario", "scam-report", "--customers", "30")
    result = helixdesk(*args, "--scenarios", str(broken), "--report", "report.json", "--gate")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "gate FAILED" in result.stdout and "wrong_handoffs 2 ≤ 0 ✗" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["gate"]["passed"] is False and report["overall"]["wrong_handoffs"] == 2
    # The same run against the pack's own expectation passes.
    result = helixdesk(*args, "--report", "ok.json", "--gate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gate PASSED" in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_simulating_against_a_running_server(model_root, tmp_path):
    """`--url`: the customers talk to a real `helixdesk serve`; the command reads that server's
    database to cast and judge, and a second run leaves out the customers the first one used."""
    from helixdesk.simulation.demo import demo_database
    from tests.serverproc import Server

    url = f"sqlite:///{tmp_path / 'served.db'}"
    engine, _ = demo_database(url, customers=40, seed=5)
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
    }
    server = Server({**env, "HELIXDESK_QUALITY_WORKER": "false"}, log=tmp_path / "server.log").start()
    try:
        helixdesk = helixdesk_cli(tmp_path, env=env, timeout=600)
        args = ("simulate", "--url", server.base, "--conversations", "4", "--seed", "2")
        only = ("--scenario", "check-balance", "--scenario", "scam-report")
        first = helixdesk(*args, *only, "--report", "first.json", "--gate")
        assert first.returncode == 0, first.stdout + first.stderr
        assert server.base in first.stdout and "gate PASSED" in first.stdout
        second = helixdesk(*args, *only, "--report", "second.json")
        assert second.returncode == 0, second.stdout + second.stderr
    finally:
        server.stop()
    reports = [json.loads((tmp_path / f"{n}.json").read_text(encoding="utf-8")) for n in ("first", "second")]
    refs = [{c["customer_ref"] for c in r["conversations"]} for r in reports]
    assert all(len(r) == 4 for r in refs) and not refs[0] & refs[1]
    assert reports[0]["run"]["target"] == server.base
    unreachable = helixdesk("simulate", "--url", "http://127.0.0.1:1", "--conversations", "1")
    assert unreachable.returncode == 2 and "error[simulation_target_invalid]" in unreachable.stderr
