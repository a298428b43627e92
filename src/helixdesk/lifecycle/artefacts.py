"""Versioned churn-model folders: `ROOT/<timestamp>/model.joblib` + `report.json`.

ROOT is `$HELIXDESK_MODEL_DIR/<pack>/churn` by default. `report.json` is the model's manifest and
its report at once:

    {kind, format, version, created_at, data_sha256, data {source, seed, as_of}, customers,
     features, config, metrics {auc, brier, ...}, calibration [10 bins], coefficients,
     model_sha256, packages}

`load_churn_model` takes the folder or ROOT (then the newest version) and refuses a folder whose
report is missing or of another kind or format, whose model file does not match `model_sha256`,
whose features are not this version's, or that was written by another scikit-learn minor version.
Only load models you trained or received from a trusted source: the model file is a pickle.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

from helixdesk.core.errors import ConfigurationError
from helixdesk.lifecycle.config import ModelSettings
from helixdesk.lifecycle.features import FEATURE_NAMES
from helixdesk.lifecycle.model import ChurnModel
from helixdesk.nlu import artefacts as shared

KIND = "helixdesk.churn"
FORMAT = 1
MODEL_FILE = "model.joblib"
REPORT_FILE = "report.json"
SUBFOLDER = "churn"
_PACKAGES = ("helixdesk", "scikit-learn", "numpy", "scipy", "joblib")


class ChurnModelError(ConfigurationError):
    code = "churn_model_invalid"


def default_root(model_dir: Path, pack: str) -> Path:
    return Path(model_dir) / pack / SUBFOLDER


def save_churn_model(model: ChurnModel, root: Path, *, report: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    """Write a new version under `root`; returns its folder and the report as written."""
    created = datetime.now(UTC)
    folder = Path(root) / f"{created:%Y%m%dT%H%M%S%fZ}"
    # Written in a hidden folder and renamed when whole, so a server looking for a newer model
    # (`CustomerProfiles.refresh`) never sees half a version.
    partial = Path(root) / f".{folder.name}.partial"
    partial.mkdir(parents=True, exist_ok=False)
    state = {
        "kind": KIND,
        "format": FORMAT,
        "features": list(model.features),
        "scaler": model.scaler,
        "classifier": model.classifier,
        "calibrator": model.calibrator,
        "settings": model.settings.model_dump(mode="json"),
    }
    joblib.dump(state, partial / MODEL_FILE)
    data_sha = str(report.get("data_sha256", ""))
    written = {
        "kind": KIND,
        "format": FORMAT,
        "version": f"{created:%Y%m%dT%H%M%SZ}-{data_sha[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        **report,
        "features": list(model.features),
        "model_file": MODEL_FILE,
        "model_sha256": shared.file_sha256(partial / MODEL_FILE),
        "packages": shared.package_versions(_PACKAGES),
    }
    (partial / REPORT_FILE).write_text(json.dumps(written, ensure_ascii=False, indent=2) + "\n", "utf-8")
    partial.rename(folder)
    return folder, written


def resolve_churn_dir(path: Path) -> Path:
    return shared.resolve_model_dir(
        path,
        manifest_file=REPORT_FILE,
        subfolder=SUBFOLDER,
        error=ChurnModelError,
        missing=lambda root: (
            f"no churn model at {root}: expected {REPORT_FILE} there or in a sub-folder. "
            "Train one with `helixdesk lifecycle train`."
        ),
    )


def read_report(folder: Path) -> dict[str, Any]:
    path = Path(folder) / REPORT_FILE
    try:
        report = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise ChurnModelError(f"{path}: cannot read the report: {e}") from e
    if not isinstance(report, dict):
        raise ChurnModelError(f"{path}: expected a JSON object")
    return report


def newest_report(root: Path) -> dict[str, Any] | None:
    """The report of the newest version under `root`, or None when there is none (for `--if-stale`)."""
    try:
        return read_report(resolve_churn_dir(root))
    except ChurnModelError:
        return None


def load_churn_model(path: Path) -> tuple[ChurnModel, dict[str, Any]]:
    """Load and verify a model folder (or the newest version under `path`)."""
    folder = resolve_churn_dir(Path(path))
    report = read_report(folder)
    if report.get("kind") != KIND or report.get("format") != FORMAT:
        raise ChurnModelError(
            f"{folder}: unsupported model (kind {report.get('kind')!r}, format {report.get('format')!r}); "
            f"this version reads {KIND} format {FORMAT}. Retrain with `helixdesk lifecycle train`."
        )
    model_path = folder / str(report.get("model_file", MODEL_FILE))
    if not model_path.is_file():
        raise ChurnModelError(f"{folder}: model file {model_path.name} is missing")
    if shared.file_sha256(model_path) != report.get("model_sha256"):
        raise ChurnModelError(f"{folder}: {model_path.name} does not match the report's model_sha256")
    trained = str(report.get("packages", {}).get("scikit-learn", ""))
    shared.check_same_minor("scikit-learn", trained, folder, ChurnModelError)
    if tuple(report.get("features", ())) != FEATURE_NAMES:
        raise ChurnModelError(
            f"{folder}: trained on features {report.get('features')}, this version computes "
            f"{list(FEATURE_NAMES)}; retrain with `helixdesk lifecycle train`"
        )
    try:
        state = joblib.load(model_path)
        model = ChurnModel(
            features=tuple(state["features"]),
            scaler=state["scaler"],
            classifier=state["classifier"],
            calibrator=state["calibrator"],
            settings=ModelSettings.model_validate(state["settings"]),
        )
    except Exception as e:  # a corrupt or foreign file
        raise ChurnModelError(f"{folder}: cannot read {model_path.name}: {e}") from e
    if model.features != FEATURE_NAMES:
        raise ChurnModelError(f"{folder}: the model's features do not match its report")
    return model, report
