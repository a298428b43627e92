"""The intent classifier: features + a linear model, calibrated confidences, top-k, out-of-scope.

Features (`helixdesk.nlu.features.TextFeaturiser`): USE-multilingual sentence embedding + char n-gram
TF-IDF + word n-gram TF-IDF over normalised text. The classifier is a linear SVM (or logistic
regression); its scores become probabilities through a softmax with one temperature fitted on
held-out data (temperature scaling), so `confidence` means "probability this intent is right".

Out of scope is decided two ways:

- an explicit `out_of_scope` class, when the training data has examples of it;
- a confidence threshold tuned on held-out data: below it, the message is out of scope.

Optionally a slower second member (e.g. with multilingual-e5 features) is consulted only when the
fast member's top confidence is below `cascade_below`; the two probability vectors are averaged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from helixdesk.core.turn import Intent
from helixdesk.nlu.embeddings import FloatArray, e5_embed, embed, single_thread_blas
from helixdesk.nlu.features import Embeddings, FeatureConfig, TextFeaturiser
from helixdesk.nlu.intent.data import OOS_LABEL, Example
from helixdesk.nlu.intent.evaluation import EvalReport, evaluate
from helixdesk.nlu.text import normalise
from helixdesk.nlu.training import softmax as softmax  # re-exported: part of this module's API
from helixdesk.nlu.training import stratified_indices

Progress = Callable[[str, int, int], None]
"""`progress(step, done, total)`: called as training advances (for progress bars)."""

ClassifierKind = Literal["svm", "lr"]


@dataclass(frozen=True, slots=True)
class MemberConfig:
    """One linear model over one feature set."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    classifier: ClassifierKind = "svm"
    c: float = 1.0
    class_weight: Literal["balanced"] | None = None
    max_iter: int = 2000
    # Add knn_weight x (mean cosine of the knn_k nearest training examples of each label, USE space)
    # k=1 (the nearest example per label) is the fastest and as accurate as k=3 on Banking77.
    # to the linear scores: a cheap non-linear term (+0.3-0.4 accuracy on Banking77). 0 = off.
    knn_weight: float = 1.0
    knn_k: int = 1


@dataclass(frozen=True, slots=True)
class IntentConfig:
    fast: MemberConfig = field(default_factory=MemberConfig)
    # Consulted only when the fast member's top confidence is below `cascade_below` (None = no cascade).
    slow: MemberConfig | None = None
    cascade_below: float = 0.0
    val_fraction: float = 0.15  # held out for calibration, the threshold and the manifest metrics
    refit: bool = True  # refit on all data (train + held-out) after calibrating
    # The out-of-scope threshold is the highest that costs at most `in_scope_loss` of held-out in-scope
    # accuracy (0.005 = half a point). Chosen over maximising accuracy + w * OOS recall, which with
    # ~100 OOS held-out examples swung between thresholds 0.3 and 0.6 for small changes of w.
    in_scope_loss: float = 0.005
    max_threshold: float = 0.9
    top_k: int = 5
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntentConfig:
        def member(d: dict[str, Any] | None) -> MemberConfig | None:
            if d is None:
                return None
            d = dict(d)
            d["features"] = FeatureConfig(**d.get("features", {}))
            return MemberConfig(**d)

        data = dict(data)
        fast = member(data.pop("fast", None)) or MemberConfig()
        slow = member(data.pop("slow", None))
        return cls(fast=fast, slow=slow, **data)


@dataclass(frozen=True, slots=True)
class IntentPrediction:
    intent: Intent
    ranking: tuple[Intent, ...]


class _Member:
    """A fitted featuriser + linear estimator + softmax temperature."""

    def __init__(self, config: MemberConfig) -> None:
        self.config = config
        self.featuriser = TextFeaturiser(config.features)
        self.estimator: LinearSVC | LogisticRegression | None = None
        self.temperature = 1.0
        # kNN memory: training USE vectors grouped by label (rows bounds[j]:bounds[j + 1] are label j).
        self.memory: FloatArray | None = None
        self.bounds: npt.NDArray[np.int64] | None = None

    @property
    def needs(self) -> tuple[str, ...]:
        f = self.config.features
        use = f.embedding_weight > 0 or self.config.knn_weight > 0
        return tuple(k for k, on in (("use", use), ("e5", f.e5_weight > 0)) if on)

    def _vectors(self, texts: Sequence[str], embeddings: Embeddings | None) -> FloatArray:
        given = (embeddings or {}).get("use")
        return embed(texts) if given is None else given

    def _fit_memory(self, texts: Sequence[str], labels: Sequence[str], embeddings: Embeddings | None) -> None:
        if self.config.knn_weight <= 0:
            self.memory = self.bounds = None
            return
        vectors = self._vectors(texts, embeddings)
        index = {c: i for i, c in enumerate(self.classes)}
        codes = np.array([index[label] for label in labels], dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        self.memory = np.ascontiguousarray(vectors[order], dtype=np.float32)
        counts = np.bincount(codes, minlength=len(index))
        self.bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def _knn_scores(self, texts: Sequence[str], embeddings: Embeddings | None) -> FloatArray:
        assert self.memory is not None and self.bounds is not None
        sims = self._vectors(texts, embeddings) @ self.memory.T
        k = self.config.knn_k
        if k == 1:  # every label has at least one row, so each segment is non-empty
            best: FloatArray = np.maximum.reduceat(sims, self.bounds[:-1], axis=1).astype(np.float32)
            return best
        out = np.zeros((len(texts), len(self.bounds) - 1), dtype=np.float32)
        for j in range(len(self.bounds) - 1):
            block = sims[:, self.bounds[j] : self.bounds[j + 1]]
            if block.shape[1] == 0:
                continue
            if block.shape[1] > k:
                block = np.partition(block, block.shape[1] - k, axis=1)[:, -k:]
            out[:, j] = block.mean(axis=1)
        return out

    def fit(self, texts: Sequence[str], labels: Sequence[str], embeddings: Embeddings | None) -> None:
        x = self.featuriser.fit(texts, embeddings)
        cfg = self.config
        estimator: LinearSVC | LogisticRegression
        if cfg.classifier == "svm":
            estimator = LinearSVC(C=cfg.c, class_weight=cfg.class_weight, max_iter=cfg.max_iter)
        else:
            estimator = LogisticRegression(C=cfg.c, class_weight=cfg.class_weight, max_iter=cfg.max_iter)
        estimator.fit(x, np.asarray(labels, dtype=object))
        self.estimator = estimator
        self.__dict__.pop("_coef_blocks", None)
        self._fit_memory(texts, labels, embeddings)

    def scores(self, texts: Sequence[str], embeddings: Embeddings | None) -> FloatArray:
        if self.estimator is None:
            raise RuntimeError("the intent model is not fitted")
        # decision_function, block by block: X @ coef.T + intercept without stacking the blocks
        blocks = self.featuriser.transform_blocks(texts, embeddings)
        weights = self._weights([b.shape[1] for b in blocks])
        raw = np.tile(np.asarray(self.estimator.intercept_, dtype=np.float32), (len(texts), 1))
        for block, w in zip(blocks, weights, strict=True):
            raw += np.asarray(block @ w, dtype=np.float32)
        if raw.shape[1] == 1:  # two classes: sklearn keeps one row, the score of classes_[1]
            raw = np.concatenate([-raw, raw], axis=1)
        scores: FloatArray = raw
        if self.memory is not None:
            scores += np.float32(self.config.knn_weight) * self._knn_scores(texts, embeddings)
        return scores

    def _weights(self, widths: list[int]) -> list[FloatArray]:
        """coef_.T split into one contiguous float32 (width, n_classes) matrix per feature block."""
        cached: list[FloatArray] | None = self.__dict__.get("_coef_blocks")
        if cached is None or [w.shape[0] for w in cached] != widths:
            assert self.estimator is not None
            coef_t = np.asarray(self.estimator.coef_, dtype=np.float32).T
            bounds = np.cumsum([0, *widths]).tolist()
            cached = [np.ascontiguousarray(coef_t[a:b]) for a, b in pairwise(bounds)]
            self.__dict__["_coef_blocks"] = cached
        return cached

    def proba(self, texts: Sequence[str], embeddings: Embeddings | None) -> FloatArray:
        return softmax(self.scores(texts, embeddings) / np.float32(self.temperature))

    @property
    def classes(self) -> list[str]:
        if self.estimator is None:
            raise RuntimeError("the intent model is not fitted")
        return [str(c) for c in self.estimator.classes_]


def fit_temperature(scores: FloatArray, gold: npt.NDArray[np.int64]) -> float:
    """The softmax temperature that minimises the negative log-likelihood of `gold` (grid + refine)."""
    if len(gold) == 0:
        return 1.0

    def nll(t: float) -> float:
        p = softmax(scores / np.float32(t))
        return float(-np.log(np.clip(p[np.arange(len(gold)), gold], 1e-9, 1.0)).mean())

    # T >= 0.05: a perfectly classified held-out slice would otherwise drive T to ~0 (certainty).
    grid = np.geomspace(0.05, 20.0, 40)
    best = min(grid, key=nll)
    fine = np.geomspace(max(best / 1.3, 0.05), best * 1.3, 21)
    return float(min(fine, key=nll))


def tune_threshold(
    confidence: FloatArray,
    predicted: Sequence[str],
    gold: Sequence[str],
    *,
    in_scope_loss: float,
    max_threshold: float,
) -> float:
    """The out-of-scope confidence threshold from held-out predictions.

    Rejecting a message whose top confidence is below `t` loses in-scope accuracy only on correctly
    classified in-scope messages; the highest `t` that rejects at most `in_scope_loss` x (number of
    in-scope messages) of them is returned, capped at `max_threshold`.
    """
    conf = np.asarray(confidence, dtype=np.float64)
    pred = np.asarray(predicted, dtype=object)
    true = np.asarray(gold, dtype=object)
    in_scope = true != OOS_LABEL
    correct = np.sort(conf[(pred == true) & in_scope])
    if len(correct) == 0:
        return 0.0
    allowed = int(np.floor(in_scope_loss * int(in_scope.sum()) + 1e-9))
    t = float(correct[allowed]) if allowed < len(correct) else max_threshold
    return min(t, max_threshold)


def stratified_split(labels: Sequence[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, held_out): `fraction` of each label held out; labels with < 3 examples stay in train."""
    return stratified_indices(labels, fraction, seed, min_group=3)


def compute_embeddings(
    texts: Sequence[str], needs: set[str], progress: Progress | None = None, batch: int = 256
) -> dict[str, FloatArray]:
    """Embed `texts` with each encoder in `needs` ("use", "e5"), reporting progress per batch."""
    out: dict[str, FloatArray] = {}
    for key in ("use", "e5"):
        if key not in needs:
            continue
        encode = embed if key == "use" else e5_embed
        parts = []
        for start in range(0, len(texts), batch):
            parts.append(encode(texts[start : start + batch]))
            if progress is not None:
                progress(f"embed ({key})", min(start + batch, len(texts)), len(texts))
        out[key] = np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)
    return out


def _take(embeddings: dict[str, FloatArray], idx: Sequence[int]) -> dict[str, FloatArray]:
    return {k: v[np.asarray(idx, dtype=np.int64)] for k, v in embeddings.items()}


class IntentClassifier:
    """A fitted intent model. Build one with `IntentClassifier.train(...)` or `artefacts.load_model`."""

    def __init__(self, config: IntentConfig) -> None:
        self.config = config
        self.fast = _Member(config.fast)
        self.slow = _Member(config.slow) if config.slow is not None else None
        self.labels: tuple[str, ...] = ()
        self.threshold = 0.0
        self.heldout: EvalReport | None = None

    # ---------- training ----------
    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        config: IntentConfig | None = None,
        *,
        validation: Sequence[Example] | None = None,
        progress: Progress | None = None,
    ) -> IntentClassifier:
        """Fit on `examples`. Calibration, threshold and held-out metrics use `validation` when given,
        else a stratified `val_fraction` of `examples` (then, with `refit`, the model is refit on all)."""
        config = config or IntentConfig()
        model = cls(config)
        texts = [normalise(e.text) for e in examples]
        labels = [e.label for e in examples]
        if len(set(labels)) < 2:
            raise ValueError("intent training needs examples of at least two intents")
        if validation is not None:
            val_texts = [normalise(e.text) for e in validation]
            all_texts = texts + val_texts
            all_labels = labels + [e.label for e in validation]
            train_idx = list(range(len(texts)))
            held_idx = list(range(len(texts), len(all_texts)))
        else:
            all_texts, all_labels = texts, labels
            train_idx, held_idx = stratified_split(labels, config.val_fraction, config.seed)
        embeddings = compute_embeddings(all_texts, set(model._needs()), progress)
        steps = 2 + (1 if held_idx and config.refit and validation is None else 0)
        members = [m for m in (model.fast, model.slow) if m is not None]

        def tick(step: str, done: int) -> None:
            if progress is not None:
                progress(step, done, steps)

        tick("fit", 0)
        fit_texts = [all_texts[i] for i in train_idx]
        fit_labels = [all_labels[i] for i in train_idx]
        for m in members:
            m.fit(fit_texts, fit_labels, _take(embeddings, train_idx))
        model.labels = tuple(model.fast.classes)
        tick("calibrate", 1)
        if held_idx:
            model._calibrate(
                [all_texts[i] for i in held_idx],
                [all_labels[i] for i in held_idx],
                _take(embeddings, held_idx),
            )
        if held_idx and config.refit and validation is None:
            tick("refit", 2)
            for m in members:
                m.fit(all_texts, all_labels, embeddings)
        tick("done", steps)
        return model

    def _needs(self) -> list[str]:
        needs = list(self.fast.needs)
        if self.slow is not None:
            needs += self.slow.needs
        return needs

    def _calibrate(self, texts: list[str], gold: list[str], embeddings: Embeddings) -> None:
        cfg = self.config
        index = {label: i for i, label in enumerate(self.labels)}
        known = [i for i, g in enumerate(gold) if g in index]
        gold_idx = np.array([index[gold[i]] for i in known], dtype=np.int64)
        for member in (self.fast, self.slow):
            if member is not None:
                scores = member.scores(texts, embeddings)
                member.temperature = fit_temperature(scores[known], gold_idx)
        proba = self._proba(texts, embeddings)
        top = proba.argmax(axis=1)
        predicted = [self.labels[i] for i in top]
        self.threshold = tune_threshold(
            proba.max(axis=1),
            predicted,
            gold,
            in_scope_loss=cfg.in_scope_loss,
            max_threshold=cfg.max_threshold,
        )
        final = self._decide(proba, predicted)
        self.heldout = evaluate(gold, final)

    # ---------- inference ----------
    def _proba(self, texts: Sequence[str], embeddings: Embeddings | None = None) -> FloatArray:
        proba = self.fast.proba(texts, embeddings)
        if self.slow is not None and self.config.cascade_below > 0:
            unsure = np.flatnonzero(proba.max(axis=1) < self.config.cascade_below)
            if len(unsure):
                sub = [texts[i] for i in unsure.tolist()]
                sub_emb = None if embeddings is None else _take(dict(embeddings), unsure.tolist())
                proba[unsure] = (proba[unsure] + self.slow.proba(sub, sub_emb)) / 2
        return proba

    def _decide(
        self, proba: FloatArray, predicted: Sequence[str], threshold: float | None = None
    ) -> list[str]:
        t = self.threshold if threshold is None else threshold
        conf = proba.max(axis=1)
        return [OOS_LABEL if c < t else p for c, p in zip(conf.tolist(), predicted, strict=True)]

    def predict_proba(self, texts: Sequence[str], *, normalized: bool = False) -> FloatArray:
        """Probabilities over `self.labels`, one row per text (BLAS limited to one thread)."""
        norm = list(texts) if normalized else [normalise(t) for t in texts]
        with single_thread_blas():
            return self._proba(norm)

    def predict(
        self,
        texts: Sequence[str],
        *,
        normalized: bool = False,
        top_k: int | None = None,
        threshold: float | None = None,
    ) -> list[IntentPrediction]:
        """The intent of each text (or `out_of_scope`) and its top-k ranking.

        Below the threshold the intent is `out_of_scope` with confidence 1 - p(best intent); the
        ranking always lists the best-scoring labels with their probabilities.
        """
        if not texts:
            return []
        k = self.config.top_k if top_k is None else top_k
        t = self.threshold if threshold is None else threshold
        proba = self.predict_proba(texts, normalized=normalized)
        order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        out: list[IntentPrediction] = []
        for row, ranked in zip(proba, order, strict=True):
            ranking = tuple(Intent(self.labels[j], float(row[j])) for j in ranked)
            best = ranking[0]
            intent = best if best.confidence >= t else Intent(OOS_LABEL, 1.0 - best.confidence)
            out.append(IntentPrediction(intent, ranking))
        return out

    def predict_labels(
        self, texts: Sequence[str], *, normalized: bool = False, threshold: float | None = None
    ) -> list[str]:
        predictions = self.predict(texts, normalized=normalized, top_k=1, threshold=threshold)
        return [p.intent.name for p in predictions]

    def with_threshold(self, threshold: float) -> IntentClassifier:
        other = IntentClassifier(self.config)
        other.__dict__.update(self.__dict__)
        other.threshold = threshold
        return other

    def with_config(self, **changes: Any) -> IntentClassifier:
        """A copy with inference-time settings changed (e.g. `cascade_below`, `top_k`)."""
        other = self.with_threshold(self.threshold)
        other.config = replace(self.config, **changes)
        return other
