"""Calibration and confusion figures of the intent evaluation, and the `LIVE` file of a folder of
model versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.nlu.artefacts import live_version, write_live_version
from helixdesk.nlu.intent.artefacts import ModelArtefactError, resolve_model_dir
from helixdesk.nlu.intent.evaluation import calibration, confusion_matrix


def test_a_perfectly_calibrated_model_has_no_calibration_error():
    conf = [0.75] * 4 + [0.25] * 4
    correct = [True, True, True, False, True, False, False, False]
    result = calibration(conf, correct, bins=4)
    assert result.ece == pytest.approx(0.0)
    assert [b.count for b in result.bins] == [0, 4, 0, 4]
    assert result.bins[3].accuracy == pytest.approx(0.75)


def test_an_overconfident_model_has_the_gap_as_its_calibration_error():
    result = calibration([0.95] * 10 + [1.0] * 10, [True] * 10 + [False] * 10, bins=10)
    # one bin (0.9-1.0, a confidence of 1 falls in the last), mean confidence 0.975, accuracy 0.5
    assert result.ece == pytest.approx(0.475)
    assert result.mce == pytest.approx(0.475)
    assert result.to_dict()["bins"][9] == {
        "low": 0.9,
        "high": 1.0,
        "count": 20,
        "confidence": 0.975,
        "accuracy": 0.5,
    }
    with pytest.raises(ValueError):
        calibration([0.5], [True, False])


def test_the_confusion_matrix_counts_true_against_predicted_with_oos_spellings_as_one():
    labels, matrix = confusion_matrix(["a", "a", "b", "oos"], ["a", "b", "b", "out_of_scope"])
    assert labels == ["a", "b", "out_of_scope"]
    assert matrix == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def _version(root: Path, name: str, created: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "manifest.json").write_text(json.dumps({"created_at": created}), "utf-8")


def test_the_live_file_names_the_version_served_whatever_is_newer(tmp_path):
    _version(tmp_path, "old", "2026-01-01T00:00:00+00:00")
    _version(tmp_path, "new", "2026-06-01T00:00:00+00:00")
    assert resolve_model_dir(tmp_path) == tmp_path / "new"
    write_live_version(tmp_path, "old")
    assert live_version(tmp_path) == "old"
    assert resolve_model_dir(tmp_path) == tmp_path / "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_live_file_naming_a_missing_version_fails_loudly(tmp_path):
    _version(tmp_path, "v1", "2026-01-01T00:00:00+00:00")
    (tmp_path / "LIVE").write_text("v9\n", "utf-8")
    with pytest.raises(ModelArtefactError, match="names 'v9', which holds no model"):
        resolve_model_dir(tmp_path)
    (tmp_path / "LIVE").write_text("../elsewhere\n", "utf-8")
    with pytest.raises(ConfigurationError, match="not a version folder name"):
        resolve_model_dir(tmp_path)
