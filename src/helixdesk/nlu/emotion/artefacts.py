"""Train, save and load the emotion model as a versioned artefact folder.

`train_emotion_model(out_dir, ...)` writes:

    out_dir/model.pkl       the fitted `EmotionClassifier` (pickle; trusted, locally built files only)
    out_dir/manifest.json   format, version, creation time, library versions, the config, the data used
                            (paths, SHA-256 and counts), metrics (held-out slice, pack held-out file)
                            and the SHA-256 of model.pkl, checked on load.

`helixdesk nlu train` calls it with `out_dir = MODEL_DIR / "emotion"` next to the intent model.
Nothing is cached on disk outside `out_dir`.
"""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.turn import Emotion
from helixdesk.nlu import artefacts as shared
from helixdesk.nlu.artefacts import file_sha256
from helixdesk.nlu.emotion.data import (
    NEGATIVE,
    PACK_EMOTIONS,
    EmotionExample,
    default_xed_dir,
    examples_sha256,
    label_counts,
    load_jsonl_examples,
    load_pack_examples,
    load_xed,
    pack_dir,
    pack_heldout_files,
    xed_files,
)
from helixdesk.nlu.emotion.model import LABELS, EmotionClassifier, EmotionConfig, Progress, dedupe

KIND = "emotion"
FORMAT = "helixdesk.emotion/1"
MODEL_FILE = "model.pkl"
MANIFEST_FILE = "manifest.json"
DEFAULT_XED_PARTS: tuple[str, ...] = ("en", "en_neutral", "cn", "tw")


class EmotionModelError(ConfigurationError):
    code = "emotion_model_invalid"


@dataclass(frozen=True, slots=True)
class TrainResult:
    out_dir: Path
    manifest: dict[str, Any]
    model: EmotionClassifier


def train_emotion_model(
    out_dir: str | Path,
    *,
    pack: str | Path = "retail_bank",
    examples: Sequence[EmotionExample] | None = None,
    xed_dir: str | Path | None = None,
    use_xed: bool = True,
    xed_parts: Sequence[str] = DEFAULT_XED_PARTS,
    max_xed_neutral: int | None = 5000,
    heldout: str | Path | Sequence[str | Path] | None = None,
    config: EmotionConfig | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train the emotion model and write it to `out_dir` (created; an existing model is replaced).

    Data: `examples` if given, else the pack's `nlu/emotions.yaml` (`pack` is a pack name or folder),
    plus XED from `xed_dir` (default `../shared/data/xed`) when `use_xed` and the files exist; at most
    `max_xed_neutral` of XED's neutral English lines (a seeded sample) keep training fast.
    `heldout` (a JSONL file or several; default: the pack's `nlu/heldout/emotions*.jsonl`) is scored
    into the manifest (all files together, and each file alone), never trained on.
    """
    started = time.perf_counter()
    config = config or EmotionConfig()
    out = Path(out_dir)
    data_info: dict[str, Any] = {}
    pack_path = pack if isinstance(pack, Path) or "/" in str(pack) else pack_dir(str(pack))
    pack_path = Path(pack_path)
    if examples is None:
        own = load_pack_examples(pack_path)
        yaml_path = pack_path / PACK_EMOTIONS if pack_path.is_dir() else pack_path
        data_info["pack"] = {"path": str(yaml_path), "sha256": file_sha256(yaml_path), "examples": len(own)}
    else:
        own = list(examples)
        data_info["examples"] = {"sha256": examples_sha256(own), "examples": len(own)}
    xed: list[EmotionExample] = []
    if use_xed:
        root = Path(xed_dir) if xed_dir is not None else default_xed_dir()
        files = xed_files(root, xed_parts)
        if files:
            xed = _cap_neutral(load_xed(root, xed_parts), max_xed_neutral, config.seed)
            data_info["xed"] = {
                "parts": list(xed_parts),
                "max_neutral": max_xed_neutral,
                "license": "CC BY 4.0 (Öhman et al., COLING 2020)",
                "examples": len(xed),
                "files": {str(f.relative_to(root)): file_sha256(f) for f in files},
            }
        else:
            data_info["xed"] = {"skipped": f"no XED files under {root}"}
    # The bank's own examples come first so they win over an identical XED line.
    train_examples, normalized = dedupe([*own, *xed])
    data_info["train_examples"] = len(train_examples)
    data_info["label_counts"] = label_counts(train_examples)

    model = EmotionClassifier.train(train_examples, config, normalized=normalized, progress=progress)
    metrics: dict[str, Any] = {"validation_slice": model.heldout}
    if heldout is None:
        heldout_paths = pack_heldout_files(pack_path)
    elif isinstance(heldout, (str, Path)):
        heldout_paths = [Path(heldout)]
    else:
        heldout_paths = [Path(h) for h in heldout]
    heldout_paths = [h for h in heldout_paths if h.is_file()]
    if heldout_paths:
        by_file = {str(h): load_jsonl_examples(h) for h in heldout_paths}
        metrics["heldout"] = evaluate(model, [e for rows in by_file.values() for e in rows])
        if len(by_file) > 1:
            metrics["heldout_files"] = {Path(h).name: evaluate(model, rows) for h, rows in by_file.items()}
        data_info["heldout"] = [
            {"path": h, "sha256": file_sha256(Path(h)), "examples": len(rows)} for h, rows in by_file.items()
        ]
    train_seconds = time.perf_counter() - started
    manifest = save_model(model, out, data=data_info, metrics=metrics, train_seconds=train_seconds)
    return TrainResult(out, manifest, model)


def _cap_neutral(examples: list[EmotionExample], limit: int | None, seed: int) -> list[EmotionExample]:
    neutral = [i for i, e in enumerate(examples) if e.source == "xed:en_neutral"]
    if limit is None or len(neutral) <= limit:
        return examples
    keep = set(np.random.default_rng(seed).choice(neutral, size=limit, replace=False).tolist())
    return [e for i, e in enumerate(examples) if e.source != "xed:en_neutral" or i in keep]


def save_model(
    model: EmotionClassifier,
    out_dir: Path,
    *,
    data: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    train_seconds: float | None = None,
) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / MODEL_FILE
    tmp = out_dir / (MODEL_FILE + ".tmp")
    with tmp.open("wb") as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(model_path)
    digest = file_sha256(model_path)
    created = datetime.now(UTC)
    manifest: dict[str, Any] = {
        "kind": KIND,
        "format": FORMAT,
        "version": f"{created.strftime('%Y%m%dT%H%M%SZ')}-{digest[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "labels": list(LABELS),
        "model_file": MODEL_FILE,
        "model_sha256": digest,
        "temperature": model.temperature,
        "config": model.config.to_dict(),
        "data": data or {},
        "metrics": metrics or {},
        "train_seconds": None if train_seconds is None else round(train_seconds, 2),
        "software": shared.package_versions(("helixdesk", "scikit-learn", "numpy")),
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def resolve_model_dir(model_dir: str | Path) -> Path:
    """`model_dir` when it holds a manifest; else `model_dir/emotion` (the shared NLU model folder that
    `helixdesk nlu train` writes); else the newest versioned sub-directory (by `created_at`)."""
    return shared.resolve_model_dir(
        model_dir,
        manifest_file=MANIFEST_FILE,
        subfolder=KIND,
        error=EmotionModelError,
        missing=lambda path: (
            f"no emotion model at {path} (expected {MANIFEST_FILE} there, in {path / KIND} or in a "
            "versioned sub-directory). Train one with `helixdesk nlu train` or "
            "helixdesk.nlu.emotion.train_emotion_model()."
        ),
    )


def read_manifest(model_dir: str | Path) -> dict[str, Any]:
    path = resolve_model_dir(model_dir) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise EmotionModelError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND or manifest.get("format") != FORMAT:
        raise EmotionModelError(
            f"{path}: not an emotion model this version reads (expected kind {KIND!r}, format {FORMAT!r}); "
            "retrain with `helixdesk nlu train`"
        )
    return manifest


def load_emotion_model(model_dir: str | Path) -> EmotionClassifier:
    """Load a model written by `train_emotion_model`, checking checksum and scikit-learn version."""
    folder = resolve_model_dir(model_dir)
    manifest = read_manifest(folder)
    model_path = folder / str(manifest.get("model_file", MODEL_FILE))
    if not model_path.is_file():
        raise EmotionModelError(f"emotion model file missing: {model_path}")
    if file_sha256(model_path) != manifest.get("model_sha256"):
        raise EmotionModelError(
            f"{model_path} does not match the checksum in {MANIFEST_FILE}; retrain with `helixdesk nlu train`"
        )
    trained = str(manifest.get("software", {}).get("scikit-learn", ""))
    shared.check_same_minor("scikit-learn", trained, folder, EmotionModelError)
    try:
        with model_path.open("rb") as f:
            model = pickle.load(f)  # our own artefact, verified against its manifest
    except Exception as e:  # a corrupt or foreign pickle
        raise EmotionModelError(f"{folder}: cannot read {model_path.name}: {e}") from e
    if not isinstance(model, EmotionClassifier):
        raise EmotionModelError(f"{model_path} does not hold an emotion model")
    return model


def evaluate(model: EmotionClassifier, examples: Sequence[EmotionExample]) -> dict[str, Any]:
    """Primary-label accuracy and macro-F1, per-label F1, negative-emotion recall, the same by
    language, and intensity correlation (when labelled).

    Negative-emotion recall: the share of examples whose gold label is negative (anger, disgust,
    fear, sadness) that the model labels with any negative emotion. An example with a `previous`
    message is scored with it as context, as the runtime does.
    """
    if not examples:
        return {"n": 0}
    predicted = predict_examples(model, examples)
    gold = [e.label for e in examples]
    pred = [p.label for p in predicted]
    out: dict[str, Any] = _label_scores(gold, pred, per_label=True)
    languages = sorted({e.language for e in examples if e.language})
    if len(languages) > 1:
        out["by_language"] = {
            lang: _label_scores(
                [g for g, e in zip(gold, examples, strict=True) if e.language == lang],
                [p for p, e in zip(pred, examples, strict=True) if e.language == lang],
            )
            for lang in languages
        }
    pairs = [
        (e.intensity, p.intensity)
        for e, p in zip(examples, predicted, strict=True)
        if e.intensity is not None
    ]
    if len(pairs) >= 3:
        gold_i = np.array([a for a, _ in pairs], dtype=np.float64)
        pred_i = np.array([b for _, b in pairs], dtype=np.float64)
        out["intensity_pearson"] = round(_corr(gold_i, pred_i), 4)
        out["intensity_spearman"] = round(_corr(_ranks(gold_i), _ranks(pred_i)), 4)
        out["intensity_mae"] = round(float(np.abs(gold_i - pred_i).mean()), 4)
    return out


def predict_examples(model: EmotionClassifier, examples: Sequence[EmotionExample]) -> list[Emotion]:
    """The model's reading of each example, in context: an example's `previous` message is read
    first and its emotion given with the example, as the conversation service gives the emotion of
    the customer's previous message (kept in the dialogue state) with each new one."""
    with_previous = [i for i, e in enumerate(examples) if e.previous]
    previous: list[Emotion | None] = [None] * len(examples)
    if with_previous:
        read = model.predict([examples[i].previous for i in with_previous])
        for i, emotion in zip(with_previous, read, strict=True):
            previous[i] = Emotion(emotion.label, emotion.intensity)
    return model.predict([e.text for e in examples], previous=previous)


def _label_scores(gold: Sequence[str], pred: Sequence[str], *, per_label: bool = False) -> dict[str, Any]:
    """n, accuracy, macro-F1 over the gold labels present, negative-emotion recall (None without a
    negative gold label) and, with `per_label`, each label's F1."""
    from sklearn.metrics import f1_score

    present = sorted(set(gold))
    negative = [p in NEGATIVE for g, p in zip(gold, pred, strict=True) if g in NEGATIVE]
    out: dict[str, Any] = {
        "n": len(gold),
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])), 4),
        "macro_f1": round(float(f1_score(gold, pred, labels=present, average="macro", zero_division=0)), 4),
        "negative_recall": round(float(np.mean(negative)), 4) if negative else None,
    }
    if per_label:
        scores = f1_score(gold, pred, labels=present, average=None, zero_division=0)
        out["per_label_f1"] = {label: round(float(f), 4) for label, f in zip(present, scores, strict=True)}
    return out


def _corr(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Average ranks (ties share their mean rank), for Spearman's correlation."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(len(values), dtype=np.float64)
    for v in np.unique(values):
        tie = values == v
        ranks[tie] = ranks[tie].mean()
    return ranks
