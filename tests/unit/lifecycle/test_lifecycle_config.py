"""The lifecycle's thresholds come from the pack, validated; a bad file fails with a stable code."""

from __future__ import annotations

from pathlib import Path

import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.lifecycle.config import LifecycleConfig, load_lifecycle_config, parse_lifecycle_config
from helixdesk.packs.loader import Pack, load_pack


def test_the_retail_bank_pack_sets_every_threshold_and_they_are_the_defaults():
    pack = load_pack("retail_bank")
    raw = (pack.path / "lifecycle" / "rules.yaml").read_text(encoding="utf-8")
    config = load_lifecycle_config(pack)
    for section in ("churn", "stages", "model", "profile"):
        for name in type(getattr(config, section)).model_fields:
            assert f"{name}:" in raw, f"{section}.{name} is not set in the pack's lifecycle/rules.yaml"
    # The code's defaults (a pack without the file) are the retail_bank pack's values.
    assert config == LifecycleConfig()


def test_a_pack_without_the_file_gets_the_defaults(tmp_path: Path):
    assert load_lifecycle_config(Pack(name="bare", path=tmp_path, config={})) == LifecycleConfig()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("stages: {exploration_months: 24, formation_months: 12}", "exploration_months must be below"),
        ("churn: {balance_share: 1.5}", "churn.balance_share"),
        ("churn: {silent_months: 0}", "churn.silent_months"),
        ("model: {bands: {medium: 0.5, high: 0.2}}", "bands.medium must be below bands.high"),
        ("model: {horizon_month: 3}", "model.horizon_month"),  # a typo is not silently ignored
        ("stages: [1, 2]", "stages"),
        ("- just a list", "must hold a mapping"),
        ("churn: {balance_share: [", "not valid YAML"),
    ],
)
def test_a_bad_file_is_refused_with_its_code_and_the_field(tmp_path: Path, text, names):
    (tmp_path / "lifecycle").mkdir()
    (tmp_path / "lifecycle" / "rules.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as failed:
        load_lifecycle_config(Pack(name="bad", path=tmp_path, config={}))
    assert failed.value.code == "invalid_lifecycle_config"
    assert names in failed.value.detail and "rules.yaml" in failed.value.detail


def test_an_empty_file_is_the_defaults():
    assert parse_lifecycle_config(None) == LifecycleConfig()
