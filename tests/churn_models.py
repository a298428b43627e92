"""A small churn model trained for a test, beside the run's NLU models (never var/models)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from helixdesk.bank.history import demo_population
from helixdesk.lifecycle.artefacts import default_root, save_churn_model
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.data import data_sha256, simulated_histories
from helixdesk.lifecycle.training import train_churn_model
from helixdesk.packs.loader import load_pack

PACK = "retail_bank"


def models_with_churn(model_root: Path, dest: Path, *, customers: int = 800, seed: int = 5) -> Path:
    """A model folder at `dest`: the pack's NLU models of `model_root` (linked) and a churn model
    trained on `customers` generated customers (a few seconds)."""
    (dest / PACK).mkdir(parents=True, exist_ok=True)
    for part in (model_root / PACK).iterdir():
        link = dest / PACK / part.name
        if not link.exists():
            link.symlink_to(part, target_is_directory=True)
    config = load_lifecycle_config(load_pack(PACK))
    histories = simulated_histories(demo_population(customers, seed=seed, as_of=date(2026, 11, 23)))
    result = train_churn_model(histories, config)
    save_churn_model(
        result.model,
        default_root(dest, PACK),
        report={
            "data_sha256": data_sha256(histories),
            "data": {"source": "generated", "seed": seed, "as_of": "2026-11-23"},
            "config": config.model_dump(mode="json", exclude={"profile"}),
            **result.report,
        },
    )
    return dest
