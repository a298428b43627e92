"""The emotion classifier: Plutchik's eight emotions plus neutral, with an intensity in [0, 1].

Features: the shared `TextFeaturiser` (USE-multilingual sentence embedding + char n-gram TF-IDF +
word n-gram TF-IDF over normalised text) plus a small dense block of surface cues from the raw text
(`helixdesk.nlu.emotion.cues`: "!", "?", repeated punctuation, all-caps words, intensifiers, hedges,
strong phrases), because the TF-IDF analysers drop punctuation and case.

Classifier: one linear model (a linear SVM by default, logistic regression optional) over the nine
labels. A multi-label example is learnt once per label with weight 1/len(labels), so the model
estimates how the labels share a message; pack examples get `pack_weight` each so the bank's own
wording outweighs movie subtitles. Scores become probabilities through a softmax with one
temperature fitted on a held-out slice (temperature scaling), so the nine scores sum to 1.

Intensity (how strongly the emotion is expressed), for a message with scores `p`:

    e = 1 - p[neutral]                   # the model's belief that the message carries emotion at all
    t = max(p[x] for x != neutral)        # how clearly one emotion stands out
    m = sqrt(e * t)                      # both: a flat "maybe something" reading stays low
    c = 1 - exp(-sum_i w_i * min(n_i, cap_i))   # cue strength from the raw text, in [0, 1)
    h = 0.7 ** min(hedges, 2)            # "有点", "a bit", "slightly" soften the feeling
    intensity = h * (1 - (1 - a*m) * (1 - b*c))   # a noisy-OR of model and cues, a=0.75, b=0.6

So a confident emotional reading alone gives up to 0.75, emphatic wording alone up to 0.6, and both
together approach 1; a neutral, plain message stays near 0. The cue weights are in
`helixdesk.nlu.emotion.cues.CUE_WEIGHTS` ("气死", "受够了", "!!!", all caps, 非常/太/到底, ...).

Decision bias: after calibration, the intercepts of the four negative emotions (anger, disgust,
fear, sadness) are raised by `negative_bias * temperature`, i.e. their log-probabilities by
`negative_bias`: missing a customer's distress costs more than reading a little of it into a calm
message (an empathy opening still needs its intensity). 0.2 was chosen on a split of the pack's own
examples (macro-F1 unchanged, negative-emotion recall up 1.4 points).

Context: when the emotion of the customer's previous message is known (label `q`, intensity `i`),
it is a prior on this one: the log-probability of `q` is raised by `context_weight * i` before the
nine probabilities are normalised again. A short follow-up that carries no feeling of its own
("那现在怎么办", "so what happens now?") then leans towards the feeling just expressed, while a
message with a clear reading of its own ("好的，收到了，谢谢") keeps it. A neutral previous message
changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from helixdesk.core.turn import EMOTIONS, Emotion
from helixdesk.nlu.embeddings import FloatArray
from helixdesk.nlu.emotion.cues import Cues, cue_features, cue_rows, cue_strength, find_cues, hedge_factor
from helixdesk.nlu.emotion.data import NEGATIVE, NEUTRAL, EmotionExample
from helixdesk.nlu.features import Embeddings, FeatureConfig, TextFeaturiser
from helixdesk.nlu.text import normalise
from helixdesk.nlu.training import softmax as softmax  # re-exported: part of this module's API
from helixdesk.nlu.training import stratified_indices

Progress = Callable[[str, int, int], None]
"""`progress(step, done, total)`: called as training advances (for progress bars)."""

LABELS: tuple[str, ...] = EMOTIONS
NEUTRAL_INDEX = LABELS.index(NEUTRAL)
NEGATIVE_INDICES: tuple[int, ...] = tuple(LABELS.index(label) for label in NEGATIVE)


@dataclass(frozen=True, slots=True)
class EmotionConfig:
    features: FeatureConfig = field(
        default_factory=lambda: FeatureConfig(embedding_weight=2.0, min_df=2, max_features=50_000)
    )
    cue_weight: float = 0.5  # scale of the dense cue block; 0 leaves it out
    classifier: Literal["svm", "lr"] = "svm"
    c: float = 0.05
    max_iter: int = 2000
    # Weight of each pack example (an XED line weighs 1 in total): the bank's own ~2,000 lines against
    # ~25,000 subtitles. 32 was best on a split of the pack's examples (4: macro-F1 0.79, 8: 0.81,
    # 16: 0.83, 32 and 64: 0.84; no XED at all: 0.84, kept for the breadth of its wording).
    pack_weight: float = 32.0
    val_fraction: float = 0.1  # held out for the temperature and the manifest metrics
    refit: bool = False  # refit on everything after calibrating (doubles the fitting time)
    # Intensity: a noisy-OR of model emotionality (weight a) and wording cues (weight b).
    intensity_model_weight: float = 0.75
    intensity_cue_weight: float = 0.6
    # Context: how much the previous message's emotion (times its intensity) raises its log-probability.
    # 4 was best on the pack's context dev set (nlu/dev/emotion_context.jsonl: 0 -> 42%, 1 -> 44%,
    # 4 -> 58% right; 8 starts reading a relieved reply as the worry before it).
    context_weight: float = 4.0
    # Added to the log-probability of the negative emotions after calibration (module docstring).
    negative_bias: float = 0.2
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmotionConfig:
        data = dict(data)
        features = FeatureConfig(**data.pop("features", {}))
        return cls(features=features, **data)


def fit_temperature(scores: FloatArray, targets: FloatArray) -> float:
    """The softmax temperature minimising cross-entropy against soft `targets` (rows sum to 1)."""
    if len(targets) == 0:
        return 1.0

    def nll(t: float) -> float:
        p = softmax(scores / np.float32(t))
        return float(-(targets * np.log(np.clip(p, 1e-9, 1.0))).sum(axis=1).mean())

    grid = np.geomspace(0.01, 20.0, 40)
    best = min(grid, key=nll)
    fine = np.geomspace(best / 1.3, best * 1.3, 15)
    return float(min(fine, key=nll))


def targets(examples: Sequence[EmotionExample]) -> FloatArray:
    """Soft targets: each example's labels share its unit of probability."""
    out = np.zeros((len(examples), len(LABELS)), dtype=np.float32)
    index = {label: i for i, label in enumerate(LABELS)}
    for row, e in enumerate(examples):
        for label in e.labels:
            out[row, index[label]] += 1.0 / len(e.labels)
    return out


def stratified_split(
    examples: Sequence[EmotionExample], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Indices (train, held_out), stratified by source and primary label."""
    keys = [(e.source.split(":")[0], e.label) for e in examples]
    return stratified_indices(keys, fraction, seed, min_group=4)


def dedupe(examples: Sequence[EmotionExample]) -> tuple[list[EmotionExample], list[str]]:
    """Drop repeats of the same normalised text (e.g. XED's Traditional copy of a Simplified line);
    the first occurrence wins, so list the most trusted source first. Returns the kept examples and
    their normalised texts."""
    seen: set[str] = set()
    out: list[EmotionExample] = []
    norm: list[str] = []
    for e in examples:
        key = normalise(e.text)
        if key.strip() and key not in seen:
            seen.add(key)
            out.append(e)
            norm.append(key)
    return out, norm


class EmotionClassifier:
    """A fitted emotion model. Build one with `EmotionClassifier.train(...)` or `load_emotion_model`."""

    labels: tuple[str, ...] = LABELS

    def __init__(self, config: EmotionConfig) -> None:
        self.config = config
        self.featuriser = TextFeaturiser(config.features)
        self.estimator: LinearSVC | LogisticRegression | None = None
        self.temperature = 1.0
        self.heldout: dict[str, Any] = {}

    # ---------- training ----------
    @classmethod
    def train(
        cls,
        examples: Sequence[EmotionExample],
        config: EmotionConfig | None = None,
        *,
        normalized: Sequence[str] | None = None,
        embeddings: FloatArray | None = None,
        progress: Progress | None = None,
    ) -> EmotionClassifier:
        """Fit on `examples`; their `normalized` texts and `embeddings` (USE vectors of the normalised
        texts) may be precomputed.

        A stratified `val_fraction` is held out to fit the softmax temperature and to score the
        model (`heldout`); with `refit` the model is then refit on everything.
        """
        config = config or EmotionConfig()
        model = cls(config)
        examples = list(examples)
        if len({label for e in examples for label in e.labels}) < 2:
            raise ValueError("emotion training needs examples of at least two labels")
        texts = list(normalized) if normalized is not None else [normalise(e.text) for e in examples]
        raw = [e.text for e in examples]
        if embeddings is None and config.features.embedding_weight > 0:
            embeddings = embed_texts(texts, progress)
        emb = None if embeddings is None else {"use": embeddings}
        soft = targets(examples)
        weights = np.array([config.pack_weight if e.source == "pack" else 1.0 for e in examples], np.float32)
        train_idx, held_idx = stratified_split(examples, config.val_fraction, config.seed)
        steps = 3

        def tick(step: str, done: int) -> None:
            if progress is not None:
                progress(step, done, steps)

        tick("fit", 0)
        model._fit(texts, raw, soft, weights, emb, train_idx)
        if held_idx:
            tick("calibrate", 1)
            scores = model._scores(
                [texts[i] for i in held_idx], [raw[i] for i in held_idx], _take(emb, held_idx)
            )
            model.temperature = fit_temperature(scores, soft[held_idx])
            if config.refit:
                tick("refit", 2)
                model._fit(texts, raw, soft, weights, emb, list(range(len(examples))))
        model._raise_negative(config.negative_bias)
        if held_idx:
            scores = model._scores(
                [texts[i] for i in held_idx], [raw[i] for i in held_idx], _take(emb, held_idx)
            )
            proba = softmax(scores / np.float32(model.temperature))
            model.heldout = heldout_metrics([examples[i] for i in held_idx], proba)
        tick("done", steps)
        return model

    def _raise_negative(self, bias: float) -> None:
        """Raise the negative emotions' log-probabilities by `bias` (their intercepts by
        `bias * temperature`), see the module docstring."""
        if self.estimator is None or not bias:
            return
        classes = [int(c) for c in self.estimator.classes_]
        intercept = np.array(self.estimator.intercept_, dtype=np.float64, copy=True)
        if intercept.shape != (len(classes),):  # a two-class model has one score column
            return
        for column, label in enumerate(classes):
            if label in NEGATIVE_INDICES:
                intercept[column] += bias * self.temperature
        self.estimator.intercept_ = intercept

    def _features(
        self,
        texts: Sequence[str],
        raw: Sequence[str],
        emb: Embeddings | None,
        *,
        fit: bool,
        cues: Sequence[Cues] | None = None,
    ) -> Any:
        """The feature matrix; `cues` are the raw texts' cues when the caller has found them already.

        All blocks are stacked in one go (the featuriser's blocks, then the cues): the same matrix
        as stacking the featuriser's blocks and then the cues, with one sparse copy fewer.
        """
        blocks: list[Any] = (
            [self.featuriser.fit(texts, emb)] if fit else self.featuriser.transform_blocks(texts, emb)
        )
        if self.config.cue_weight > 0:
            block = cue_rows(cues) if cues is not None else cue_features(list(raw))
            blocks.append(block * np.float32(self.config.cue_weight))
        sparse = [b if sp.issparse(b) else sp.csr_matrix(b) for b in blocks]
        return sp.hstack(sparse, format="csr", dtype=np.float32)

    def _fit(
        self,
        texts: list[str],
        raw: list[str],
        soft: FloatArray,
        weights: npt.NDArray[np.float32],
        emb: Embeddings | None,
        idx: list[int],
    ) -> None:
        # One row per (example, label), weighted by the label's share of the example.
        rows, cols = np.nonzero(soft[idx])
        ex = np.asarray(idx, dtype=np.int64)[rows]
        y = cols
        w = soft[ex, cols] * weights[ex]
        unique = np.asarray(idx, dtype=np.int64)
        x = self._features([texts[i] for i in unique], [raw[i] for i in unique], _take(emb, unique), fit=True)
        position = {int(v): k for k, v in enumerate(unique.tolist())}
        x_rows = x[np.array([position[int(i)] for i in ex], dtype=np.int64)]
        cfg = self.config
        estimator: LinearSVC | LogisticRegression
        if cfg.classifier == "svm":
            estimator = LinearSVC(C=cfg.c, max_iter=cfg.max_iter)
        else:
            estimator = LogisticRegression(C=cfg.c, max_iter=cfg.max_iter)
        estimator.fit(x_rows, y, sample_weight=w)
        self.estimator = estimator

    def _scores(
        self,
        texts: Sequence[str],
        raw: Sequence[str],
        emb: Embeddings | None,
        cues: Sequence[Cues] | None = None,
    ) -> FloatArray:
        """Raw linear scores for all nine labels (a label absent from training scores very low)."""
        if self.estimator is None:
            raise RuntimeError("the emotion model is not fitted")
        x = self._features(texts, raw, emb, fit=False, cues=cues)
        # The estimator's decision_function (X @ coef.T + intercept), without its input validation,
        # which costs more than the product for a few messages and checks a matrix we just built.
        coef = self.estimator.coef_
        decision = x @ (coef.T if coef.ndim == 2 else coef) + self.estimator.intercept_
        raw_scores = np.asarray(decision, dtype=np.float32)
        classes = [int(c) for c in self.estimator.classes_]
        if raw_scores.ndim == 2 and raw_scores.shape[1] == 1:  # two classes: one column, as sklearn
            raw_scores = raw_scores[:, 0]
        if raw_scores.ndim == 1:
            raw_scores = np.stack([-raw_scores, raw_scores], axis=1)
        out = np.full((len(texts), len(LABELS)), -1e4, dtype=np.float32)
        out[:, classes] = raw_scores
        return out

    # ---------- inference ----------
    def predict_proba(
        self,
        texts: Sequence[str],
        *,
        normalized: Sequence[str] | None = None,
        embeddings: FloatArray | None = None,
    ) -> FloatArray:
        """Probabilities over `LABELS` (rows sum to 1) for raw `texts`."""
        if not texts:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        norm = list(normalized) if normalized is not None else [normalise(t) for t in texts]
        scores = self.label_scores(texts, normalized=norm, embeddings=embeddings)
        return softmax(scores / np.float32(self.temperature))

    def label_scores(
        self,
        texts: Sequence[str],
        *,
        normalized: Sequence[str] | None = None,
        embeddings: FloatArray | None = None,
    ) -> FloatArray:
        """The linear model's score for each of the nine labels, before the softmax (labels absent
        from training score -1e4). Unlike the probabilities they are not normalised across labels,
        so they suit multi-label decisions: a text carries every label whose score reaches that
        label's own threshold (`bench/nlu/emotion_bench.py` tunes the thresholds)."""
        if not texts:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        norm = list(normalized) if normalized is not None else [normalise(t) for t in texts]
        emb: Embeddings | None = None if embeddings is None else {"use": embeddings}
        return self._scores(norm, list(texts), emb)

    def intensity(self, text: str, proba: FloatArray) -> float:
        """See the module docstring for the formula."""
        emotional = 1.0 - float(proba[NEUTRAL_INDEX])
        top = float(np.delete(proba, NEUTRAL_INDEX).max())
        return self._intensity(find_cues(text), emotional, top)

    def _intensity(self, cues: Cues, emotional: float, top: float) -> float:
        """`intensity` from the cues, 1 - p(neutral) and the best other probability."""
        m = math.sqrt(max(0.0, emotional * top))
        c = cue_strength(cues)
        a, b = self.config.intensity_model_weight, self.config.intensity_cue_weight
        value = hedge_factor(cues) * (1.0 - (1.0 - a * m) * (1.0 - b * c))
        return float(min(1.0, max(0.0, value)))

    def predict(
        self,
        texts: Sequence[str],
        *,
        normalized: Sequence[str] | None = None,
        embeddings: FloatArray | None = None,
        previous: Sequence[Emotion | None] | None = None,
    ) -> list[Emotion]:
        """`predict_proba` and `intensity` for each text, with each text's cues found once (the
        classifier's cue block and the intensity both need them) and the per-row numbers taken
        from the whole matrix at once; the values are those of the two public methods."""
        if not texts:
            return []
        norm = list(normalized) if normalized is not None else [normalise(t) for t in texts]
        cues = [find_cues(t) for t in texts]
        emb: Embeddings | None = None if embeddings is None else {"use": embeddings}
        proba = softmax(self._scores(norm, list(texts), emb, cues) / np.float32(self.temperature))
        if previous is not None:
            proba = self.with_context(proba, previous)
        best = proba.argmax(axis=1).tolist()
        neutral = proba[:, NEUTRAL_INDEX].tolist()
        top = np.delete(proba, NEUTRAL_INDEX, axis=1).max(axis=1).tolist()
        out: list[Emotion] = []
        for i, row in enumerate(proba.tolist()):
            out.append(
                Emotion(
                    label=LABELS[best[i]],
                    intensity=self._intensity(cues[i], 1.0 - neutral[i], top[i]),
                    scores=dict(zip(LABELS, row, strict=True)),
                )
            )
        return out

    def predict_one(
        self, text: str, *, normalized: str | None = None, previous: Emotion | None = None
    ) -> Emotion:
        return self.predict(
            [text], normalized=None if normalized is None else [normalized], previous=[previous]
        )[0]

    def with_context(self, proba: FloatArray, previous: Sequence[Emotion | None]) -> FloatArray:
        """`proba` with each row's previous emotion as a prior (see the module docstring)."""
        if len(previous) != len(proba):
            raise ValueError("one previous emotion (or None) per text")
        weight = float(getattr(self.config, "context_weight", 1.0))
        boost = np.zeros_like(proba)
        index = {label: i for i, label in enumerate(LABELS)}
        for row, prev in enumerate(previous):
            if prev is not None and prev.label != NEUTRAL and prev.label in index:
                boost[row, index[prev.label]] = weight * min(1.0, max(0.0, float(prev.intensity)))
        if not boost.any():
            return proba
        return softmax(np.log(np.clip(proba, 1e-9, 1.0)) + boost)


def heldout_metrics(examples: Sequence[EmotionExample], proba: FloatArray) -> dict[str, Any]:
    """Primary-label accuracy and macro-F1 over the labels present, by source (pack / xed)."""
    from sklearn.metrics import f1_score

    out: dict[str, Any] = {}
    predicted = proba.argmax(axis=1)
    index = {label: i for i, label in enumerate(LABELS)}
    for source in sorted({e.source.split(":")[0] for e in examples}):
        rows = [i for i, e in enumerate(examples) if e.source.split(":")[0] == source]
        # A prediction is right when it is any of the example's labels (XED lines are multi-label).
        gold = [
            int(predicted[i])
            if int(predicted[i]) in {index[x] for x in examples[i].labels}
            else index[examples[i].label]
            for i in rows
        ]
        pred = [int(predicted[i]) for i in rows]
        present = sorted(set(gold))
        out[source] = {
            "n": len(rows),
            "accuracy": round(float(np.mean(np.array(gold) == np.array(pred))), 4),
            "macro_f1": round(
                float(f1_score(gold, pred, labels=present, average="macro", zero_division=0)), 4
            ),
        }
    return out


def embed_texts(texts: Sequence[str], progress: Progress | None = None, batch: int = 256) -> FloatArray:
    """USE embeddings of `texts` with progress per batch (bypassing the embedder's per-text cache,
    which is meant for live traffic, not for tens of thousands of training lines)."""
    from helixdesk.nlu.embeddings import embed

    parts = []
    for start in range(0, len(texts), batch):
        parts.append(embed(texts[start : start + batch], cache=False))
        if progress is not None:
            progress("embed", min(start + batch, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, 512), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32)


def _take(emb: Embeddings | None, idx: Sequence[int] | npt.NDArray[np.int64]) -> Embeddings | None:
    if emb is None:
        return None
    ix = np.asarray(idx, dtype=np.int64)
    return {k: v[ix] for k, v in emb.items()}
