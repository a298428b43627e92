"""The churn-risk model, trained for real on a small generated population: it ranks churners above
stayers on held-out customers, its probabilities are calibrated better than the base rate, the
reasons for an obvious drifter point the right way, and a saved model loads only when intact."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from helixdesk.bank.history import demo_population
from helixdesk.core.errors import ValidationFailedError
from helixdesk.lifecycle.artefacts import ChurnModelError, default_root, load_churn_model, save_churn_model
from helixdesk.lifecycle.config import LifecycleConfig
from helixdesk.lifecycle.data import data_sha256, simulated_histories
from helixdesk.lifecycle.features import feature_vector
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.training import (
    build_examples,
    calibration_table,
    cutoffs,
    in_share,
    train_churn_model,
)
from tests.unit.lifecycle.builders import customer, edit, steady

CONFIG = LifecycleConfig()


@pytest.fixture(scope="module")
def histories():
    return simulated_histories(demo_population(1500, seed=11, as_of=date(2026, 11, 23)))


@pytest.fixture(scope="module")
def trained(histories):
    return train_churn_model(histories, CONFIG)


def test_held_out_customers_are_ranked_well_above_chance(trained):
    report = trained.report
    assert report["metrics"]["auc"] > 0.8, report["metrics"]
    assert report["customers_heldout"] == pytest.approx(1500 * 0.25, rel=0.15)
    assert report["examples"]["heldout"] > 1000 and 0.005 < report["churn_rate"]["heldout"] < 0.2


def test_the_probabilities_beat_the_base_rate_and_follow_the_observed_rates(trained):
    metrics = trained.report["metrics"]
    assert metrics["brier"] < metrics["brier_base_rate"]
    table = trained.report["calibration"]
    assert len(table) == 10 and sum(row["n"] for row in table) == trained.report["examples"]["heldout"]
    low, high = table[0], [row for row in table[3:] if row["n"]]
    assert low["observed"] < 0.05 and high and all(row["observed"] > 0.2 for row in high if row["n"] >= 20)


def test_an_obvious_drifter_scores_high_for_the_right_reasons(trained):
    model = trained.model
    stayer = customer(steady(24), tenure=60)
    months = edit(steady(24), slice(-3, None), transactions=4, logins=1, payroll=False, balance=9_000)
    drifter = customer(edit(months, slice(-2, None), products_held=2, products_closed=0), tenure=60)
    stays, drifts = model.score(stayer), model.score(drifter)
    assert drifts.probability > 0.3 > stays.probability
    assert drifts.band == "high" and stays.band == "low"
    warnings = ("activity_trend", "balance_vs_peak", "payroll_stopped", "product_change")
    assert {r.feature for r in drifts.reasons} <= set(warnings) and "activity_trend" in {
        r.feature for r in drifts.reasons
    }
    assert all(r.direction == "raises" and r.contribution > 0 for r in drifts.reasons)
    contributions = dict(zip(model.features, model.contributions(feature_vector(drifter)), strict=True))
    assert all(contributions[name] > 0 for name in warnings), contributions
    assert [abs(r.contribution) for r in drifts.reasons] == sorted(
        (abs(r.contribution) for r in drifts.reasons), reverse=True
    )


def test_the_coefficients_point_the_way_churn_goes(trained):
    coefficients = trained.report["coefficients"]
    assert coefficients["activity_trend"] < 0 and coefficients["balance_vs_peak"] < 0
    assert coefficients["payroll_stopped"] > 0 and coefficients["product_change"] < 0


def test_the_split_is_by_customer_and_the_same_every_time(histories):
    refs = [h.ref for h in histories]
    held = [r for r in refs if in_share(r, 0.25, "heldout")]
    assert held == [r for r in refs if in_share(r, 0.25, "heldout")]
    assert len(held) / len(refs) == pytest.approx(0.25, abs=0.04)
    examples = build_examples(histories[:50], CONFIG)
    assert len(examples.y) == len(examples.refs) == examples.x.shape[0]
    assert cutoffs(24, CONFIG.model) == list(range(21, 2, -1))


def test_too_few_churners_is_a_clear_error(histories):
    steadies = [customer(steady(24), tenure=40)] * 3
    with pytest.raises(ValidationFailedError) as failed:
        train_churn_model([replace(h, ref=f"S{i}") for i, h in enumerate(steadies)], CONFIG)
    assert failed.value.code == "churn_too_few_examples"


def test_the_calibration_table_counts_every_prediction():
    y = np.array([0, 0, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.95, 1.0, 0.0])
    table = calibration_table(y, p)
    assert [row["n"] for row in table] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table[9] == {"bin": "0.9-1.0", "n": 2, "predicted": 0.975, "observed": 1.0}


def test_a_saved_model_loads_and_scores_the_same(trained, histories, tmp_path):
    folder, report = save_churn_model(
        trained.model, tmp_path / "churn", report={"data_sha256": data_sha256(histories), **trained.report}
    )
    assert (folder / "model.joblib").is_file() and json.loads((folder / "report.json").read_text())[
        "metrics"
    ]["auc"] > 0.8
    loaded, read = load_churn_model(tmp_path / "churn")  # the newest version under the root
    assert read["version"] == report["version"] and read["data_sha256"] == data_sha256(histories)
    sample = histories[:40]
    assert [loaded.score(h) for h in sample] == [trained.model.score(h) for h in sample]


def test_a_damaged_or_foreign_model_is_refused(trained, tmp_path):
    folder, _ = save_churn_model(trained.model, tmp_path / "churn", report={"data_sha256": "x"})
    with (folder / "model.joblib").open("ab") as f:
        f.write(b"tampered")
    with pytest.raises(ChurnModelError, match="does not match") as failed:
        load_churn_model(folder)
    assert failed.value.code == "churn_model_invalid"
    other, _ = save_churn_model(trained.model, tmp_path / "other", report={"data_sha256": "x"})
    report = json.loads((other / "report.json").read_text())
    (other / "report.json").write_text(json.dumps({**report, "features": ["tenure"]}))
    with pytest.raises(ChurnModelError, match="retrain"):
        load_churn_model(other)
    with pytest.raises(ChurnModelError, match="helixdesk lifecycle train"):
        load_churn_model(tmp_path / "nothing-here")


def test_profiles_take_a_model_trained_after_they_started_and_keep_theirs_over_a_damaged_one(
    trained, tmp_path
):
    # No model at start: the profiles say so, and the bank is never read by a refresh.
    profiles = CustomerProfiles.load(bank=None, config=CONFIG, model_dir=tmp_path, pack="p")  # type: ignore[arg-type]
    assert profiles.model_version is None
    root = default_root(tmp_path, "p")
    _, first = save_churn_model(trained.model, root, report={"data_sha256": "a" * 64})
    assert [d.name for d in root.iterdir() if d.name.startswith(".")] == []  # no partial folder left
    profiles.refresh()
    assert profiles.model_version == first["version"]
    # A newer version that cannot be loaded: the one in use stays.
    damaged, _ = save_churn_model(trained.model, root, report={"data_sha256": "b" * 64})
    (damaged / "model.joblib").write_bytes(b"not a model")
    profiles.refresh()
    assert profiles.model_version == first["version"]
    # A good version after it is taken.
    _, third = save_churn_model(trained.model, root, report={"data_sha256": "c" * 64})
    profiles.refresh()
    assert profiles.model_version == third["version"] != first["version"]


def test_a_version_still_being_written_is_not_taken_as_the_newest(trained, tmp_path):
    root = tmp_path / "churn"
    _, report = save_churn_model(trained.model, root, report={"data_sha256": "d" * 64})
    partial = root / ".20991231T000000000000Z.partial"
    partial.mkdir()
    (partial / "report.json").write_text(json.dumps({**report, "created_at": "2099-12-31T00:00:00+00:00"}))
    assert load_churn_model(root)[1]["version"] == report["version"]
