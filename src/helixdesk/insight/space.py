"""The space a mining run clustered in, kept so that rows arriving later join its topics.

A run centres each language on its own mean (`insight.topics.features`: the e5 vectors centred and
made unit length, the square roots of the intent probabilities centred and weighted); a message
arriving the next day must be centred on the same means, not on its own batch's, to land near its
topic. `Space`
holds the run's per-language means (of the e5 vectors and of the intent probabilities), the
per-style means of the language-centred e5 vectors (`insight.topics.align`; `style_of` names a
row's style), the weight of the intents, and each topic's centre with its stable id. `place` puts new rows in the
nearest topic. Stored in `insight_runs.space` as an `.npz`.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from helixdesk.insight.topics import ROOT_INTENT_WEIGHT

MIN_LANGUAGE_ROWS = 20


@dataclass(frozen=True)
class Space:
    languages: tuple[str, ...]
    vector_means: np.ndarray  # (languages, dims)
    intent_means: np.ndarray | None  # (languages, intents), None when mined without intents
    centres: np.ndarray  # (topics, features), unit rows
    topic_ids: tuple[str, ...]
    intent_weight: float = ROOT_INTENT_WEIGHT
    # True: the intents join as their square roots, centred (`insight.topics.features`' default);
    # False: centred and made unit length (runs stored before, at `INTENT_WEIGHT`).
    intent_root: bool = True
    # Each style's mean of the language-centred e5 vectors; None for runs stored before styles.
    styles: tuple[str, ...] = ()
    style_means: np.ndarray | None = None

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        intents: np.ndarray | None,
        languages: Sequence[str],
        intent_weight: float = ROOT_INTENT_WEIGHT,
        *,
        styles: Sequence[str] | None = None,
    ) -> Space:
        """The per-language means of these rows (no topics yet) and, when `styles` are given, the
        per-style means of the vectors once centred per language (when at least two styles have
        `MIN_LANGUAGE_ROWS` rows). A language or style with fewer than `MIN_LANGUAGE_ROWS` rows is
        left uncentred (a zero mean): the mean of a handful of messages is their own topic, and
        subtracting it would erase what they say."""
        names = tuple(sorted(set(languages)))
        vector_means = _means(vectors, languages, names)
        intent_means = None if intents is None else _means(_roots(intents), languages, names)
        style_names: tuple[str, ...] = ()
        style_means = None
        # Styles are centred when two or more have enough rows: with one, its mean (after the
        # languages') is only the other styles' few rows mirrored, and taking it away would move
        # the one style off the others instead of onto them.
        counted = {} if styles is None else Counter(styles)
        if sum(n >= MIN_LANGUAGE_ROWS for n in counted.values()) >= 2:
            assert styles is not None
            style_names = tuple(sorted(counted))
            centred = _shift(vectors, languages, names, vector_means, vector_means.mean(axis=0))
            style_means = _means(centred, styles, style_names)
        return cls(
            names,
            vector_means,
            intent_means,
            np.zeros((0, 0), np.float32),
            (),
            intent_weight,
            True,
            style_names,
            style_means,
        )

    def with_topics(self, centres: np.ndarray, topic_ids: Sequence[str]) -> Space:
        unit = centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)
        return Space(
            self.languages,
            self.vector_means,
            self.intent_means,
            unit.astype(np.float32),
            tuple(topic_ids),
            self.intent_weight,
            self.intent_root,
            self.styles,
            self.style_means,
        )

    @property
    def uses_intents(self) -> bool:
        return self.intent_means is not None

    def fits(self, intents: np.ndarray | None) -> bool:
        """Whether rows with these intent probabilities (or none) can be placed in this space."""
        if self.intent_means is None:
            return True
        return intents is not None and intents.shape[1] == self.intent_means.shape[1]

    def features(
        self,
        vectors: np.ndarray,
        intents: np.ndarray | None,
        languages: Sequence[str],
        styles: Sequence[str] | None = None,
    ) -> np.ndarray:
        """What `insight.topics.features` computes, centred on this space's stored means (a
        language the run did not see is centred on the mean of all languages; a style it did not
        see, or rows given without styles, are not centred per style)."""
        centred = _shift(
            vectors, languages, self.languages, self.vector_means, self.vector_means.mean(axis=0)
        )
        if self.style_means is not None and styles is not None:
            centred = _shift(centred, styles, self.styles, self.style_means, None)
        parts = [_unit(centred)]
        if self.intent_means is not None:
            if intents is None:
                raise ValueError("this space was mined with intent probabilities: give them")
            overall = self.intent_means.mean(axis=0)
            if self.intent_root:
                centred = _shift(_roots(intents), languages, self.languages, self.intent_means, overall)
            else:
                centred = _unit(_shift(intents, languages, self.languages, self.intent_means, overall))
            parts.append(self.intent_weight * centred)
        return np.hstack(parts).astype(np.float32)

    def place(
        self,
        vectors: np.ndarray,
        intents: np.ndarray | None,
        languages: Sequence[str],
        styles: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Each row's nearest topic and its cosine to that topic's centre."""
        if not self.topic_ids or len(vectors) == 0:
            return []
        feats = self.features(vectors, intents, languages, styles)
        feats /= np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-9)
        sims = feats @ self.centres.T
        best = sims.argmax(axis=1)
        return [(self.topic_ids[int(b)], float(sims[i, b])) for i, b in enumerate(best)]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        arrays = {
            "languages": np.asarray(self.languages),
            "vector_means": self.vector_means,
            "centres": self.centres,
            "topic_ids": np.asarray(self.topic_ids),
            "intent_weight": np.asarray(self.intent_weight),
            "intent_root": np.asarray(self.intent_root),
        }
        if self.intent_means is not None:
            arrays["intent_means"] = self.intent_means
        if self.style_means is not None:
            arrays["styles"] = np.asarray(self.styles)
            arrays["style_means"] = self.style_means
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Space:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(
                languages=tuple(str(x) for x in z["languages"]),
                vector_means=z["vector_means"],
                intent_means=z["intent_means"] if "intent_means" in z.files else None,
                centres=z["centres"],
                topic_ids=tuple(str(x) for x in z["topic_ids"]),
                intent_weight=float(z["intent_weight"]),
                intent_root=bool(z["intent_root"]) if "intent_root" in z.files else False,
                styles=tuple(str(x) for x in z["styles"]) if "styles" in z.files else (),
                style_means=z["style_means"] if "style_means" in z.files else None,
            )


def _roots(intents: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(np.asarray(intents, dtype=np.float32), 0.0, None))


def style_of(source: str, channel: str) -> str:
    """A row's style (`insight.topics.align`): where it was written. Customers' chat messages by
    their channel (web, app, ...); feedback by its source (csat, callback, social)."""
    return channel if source == "chat" else source


def _means(rows: np.ndarray, keys: Sequence[str], names: Sequence[str]) -> np.ndarray:
    codes = np.asarray(keys)
    return np.stack(
        [
            rows[codes == n].mean(axis=0)
            if int((codes == n).sum()) >= MIN_LANGUAGE_ROWS
            else np.zeros(rows.shape[1], dtype=np.float32)
            for n in names
        ]
    ).astype(np.float32)


def _shift(
    rows: np.ndarray, keys: Sequence[str], known: Sequence[str], means: np.ndarray, unknown: np.ndarray | None
) -> np.ndarray:
    """Each row minus the mean of its key (`unknown`, or nothing, for a key without one)."""
    out = np.array(rows, dtype=np.float32, copy=True)
    index = {name: i for i, name in enumerate(known)}
    for i, key in enumerate(keys):
        j = index.get(key)
        if j is not None:
            out[i] -= means[j]
        elif unknown is not None:
            out[i] -= unknown
    return out


def _unit(rows: np.ndarray) -> np.ndarray:
    return np.asarray(rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9), dtype=np.float32)
