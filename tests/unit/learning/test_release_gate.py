"""The release gate: a candidate worse than the live model on any label beyond the tolerance fails."""

from __future__ import annotations

import pytest

from helixdesk.learning.gate import gate


def report(f1: dict[str, float], sha: str = "abc") -> dict:
    return {
        "regression": {"sha256": sha, "n": 100},
        "per_label": [{"label": k, "f1": v, "support": 10} for k, v in f1.items()],
    }


LIVE = report({"balance_inquiry": 0.95, "card_lost_or_stolen": 0.90, "out_of_scope": 0.80})


def test_a_candidate_no_worse_on_any_label_passes():
    result = gate(
        report({"balance_inquiry": 0.96, "card_lost_or_stolen": 0.90, "out_of_scope": 0.81}),
        LIVE,
        tolerance=0.02,
        live_version="v1",
    )
    assert result.passed and result.worse == [] and result.explain() == "passes the gate"


def test_a_drop_within_the_tolerance_passes_and_beyond_it_fails_naming_the_labels():
    within = report({"balance_inquiry": 0.93, "card_lost_or_stolen": 0.90, "out_of_scope": 0.80})
    assert gate(within, LIVE, tolerance=0.02, live_version="v1").passed
    beyond = report({"balance_inquiry": 0.60, "card_lost_or_stolen": 0.90, "out_of_scope": 0.75})
    result = gate(beyond, LIVE, tolerance=0.02, live_version="v1")
    assert not result.passed
    assert [w.label for w in result.worse] == ["balance_inquiry", "out_of_scope"]  # biggest drop first
    assert "balance_inquiry 0.950->0.600" in result.explain()
    assert result.to_dict()["worse"][0]["drop"] == pytest.approx(0.35)


def test_a_label_the_candidate_never_predicts_counts_as_f1_zero():
    result = gate(
        report({"balance_inquiry": 0.95, "card_lost_or_stolen": 0.90}),
        LIVE,
        tolerance=0.02,
        live_version="v1",
    )
    assert [w.label for w in result.worse] == ["out_of_scope"]


def test_without_a_live_model_the_gate_passes_and_reports_on_different_sets_do_not_compare():
    assert gate(report({"balance_inquiry": 0.1}), None, tolerance=0.02, live_version=None).passed
    with pytest.raises(ValueError, match="different regression sets"):
        gate(report({"balance_inquiry": 0.9}, sha="other"), LIVE, tolerance=0.02, live_version="v1")
