"""`helixdesk lifecycle train | show | effect` as an operator uses it (real subprocesses, real SQLite
file)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from helixdesk.bank.connector import MonthlyActivity
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.lifecycle.churn import churn_event
from helixdesk.lifecycle.config import ChurnRules
from tests.cliproc import helixdesk_cli
from tests.strategy_effect_data import SINCE, STRATEGY, UNTIL, counted, expected, seed_strategy_effect

# Real processes (the command line): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow

AS_OF = "2026-11-23"


@pytest.fixture
def run(tmp_path):
    helixdesk = helixdesk_cli(
        tmp_path,
        env={
            "HELIXDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
            "HELIXDESK_MODEL_DIR": str(tmp_path / "models"),
        },
        timeout=180,
    )
    assert helixdesk("db", "upgrade").returncode == 0
    return helixdesk


def test_train_on_the_banks_history_then_show_customers(run, tmp_path):
    missing = run("lifecycle", "show", "C000001")
    assert missing.returncode == 2 and "error[churn_model_invalid]" in missing.stderr
    assert "helixdesk lifecycle train" in missing.stderr
    empty = run("lifecycle", "train")
    assert empty.returncode == 2 and "error[churn_no_history]" in empty.stderr

    assert run("bank", "seed", "--customers", "200", "--as-of", AS_OF).returncode == 0
    trained = run("lifecycle", "train")
    assert trained.returncode == 0, trained.stderr
    assert "trained churn model on 200 customers (bank)" in trained.stdout and "AUC" in trained.stdout
    [folder] = (tmp_path / "models" / "retail_bank" / "churn").iterdir()
    report = json.loads((folder / "report.json").read_text("utf-8"))
    assert report["data"] == {"source": "bank", "seed": None, "as_of": None}
    assert report["customers"] == 200 and report["metrics"]["auc"] > 0.6
    assert len(report["calibration"]) == 10 and (folder / "model.joblib").is_file()
    again = run("lifecycle", "train", "--if-stale")
    assert again.returncode == 0 and "up to date" in again.stdout
    assert len(list((tmp_path / "models" / "retail_bank" / "churn").iterdir())) == 1

    bank = build_demo_bank(200, as_of=date.fromisoformat(AS_OF))  # the same data, to know who churned
    rules = ChurnRules()
    churned = {
        c.ref: event
        for c in bank.customers
        if (event := churn_event([MonthlyActivity(**m.model_dump()) for m in c.monthly_activity], rules))
    }
    gone = min(ref for ref, event in churned.items() if event.month <= date(2026, 5, 1))
    shown = run("lifecycle", "show", gone)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["customer_ref"] == gone and view["as_of"] == "2026-11-01" and view["months_of_history"] >= 6
    assert view["stage"]["stage"] == "decline" and view["stage"]["rule"] == "churned"
    assert view["churned"] == {"month": churned[gone].month.isoformat(), "reason": churned[gone].reason}
    risk = view["churn_risk"]
    assert 0 < risk["probability"] < 1 and risk["band"] in ("low", "medium", "high")
    assert risk["horizon_months"] == 3 and risk["model_version"] == report["version"]
    assert len(risk["reasons"]) == 3
    assert {"feature", "direction", "contribution", "value"} == set(risk["reasons"][0])

    stayer = min(c.ref for c in bank.customers if c.ref not in churned)
    view = json.loads(run("lifecycle", "show", stayer).stdout)
    assert view["churned"] is None and view["stage"]["stage"] in (
        "exploration",
        "formation",
        "stability",
        "decline",
    )

    unknown = run("lifecycle", "show", "C999999")
    assert unknown.returncode == 2 and "error[customer_not_found]" in unknown.stderr


def test_train_on_a_generated_population(run, tmp_path):
    done = run("lifecycle", "train", "--customers", "400", "--seed", "3", "--as-of", AS_OF, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["data"] == {"source": "generated", "seed": 3, "as_of": AS_OF}
    assert report["customers"] == 400 and report["metrics"]["auc"] > 0.7
    assert report["folder"].startswith(str(tmp_path / "models" / "retail_bank" / "churn"))
    same = run("lifecycle", "train", "--customers", "400", "--seed", "3", "--as-of", AS_OF, "--if-stale")
    assert same.returncode == 0 and "up to date" in same.stdout
    other = run("lifecycle", "train", "--customers", "400", "--seed", "4", "--as-of", AS_OF, "--if-stale")
    assert other.returncode == 0 and "trained churn model on 400 customers (generated, seed 4" in other.stdout
    bad = run("lifecycle", "train", "--as-of", AS_OF)
    assert bad.returncode == 2 and "error[invalid_option]" in bad.stderr
    bad_date = run("lifecycle", "train", "--customers", "400", "--as-of", "23/11/2026")
    assert bad_date.returncode == 2 and "error[bad_date]" in bad_date.stderr


def test_a_strategys_effect_against_its_holdout_group(run, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    seed_strategy_effect(make_session_factory(engine))
    engine.dispose()
    shown = run("lifecycle", "effect", STRATEGY, "--since", str(SINCE), "--until", str(UNTIL), "--json")
    assert shown.returncode == 0, shown.stderr
    got = {o["key"]: o for o in json.loads(shown.stdout)["outcomes"]}
    for key, figures in expected(counted()).items():
        for name, value in figures.items():
            assert got[key][name] == pytest.approx(value, abs=1e-4), (key, name)
    table = run("lifecycle", "effect", STRATEGY, "--since", str(SINCE))
    assert table.returncode == 0 and "retention and products observed through 2026-11" in table.stdout
    missing = run("lifecycle", "effect", "nope")
    assert missing.returncode == 2 and "error[strategy_not_found]" in missing.stderr
    bad = run("lifecycle", "effect", STRATEGY, "--since", "2026-10-32")
    assert bad.returncode == 2 and "error[bad_date]" in bad.stderr
