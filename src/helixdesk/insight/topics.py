"""Topics in what customers write, across Simplified and Traditional Chinese and English.

    vectors = embed_messages(texts)                   # multilingual-e5-small, "query:" prefix
    topics = mine(texts, languages, vectors, k=None)  # k chosen by silhouette when not given

Multilingual embeddings of the same request in two languages are close, but each language also
shifts every vector the same way, so plain clustering splits by language first. Centring each
language on its own mean removes that shift (`align`): then one topic holds the zh-Hans, zh-Hant
and English messages about the same thing. The NLU's intent probabilities, when given, join the
embeddings (`features`) as their square roots (the Hellinger map: a distance between two rows is
then a distance between two distributions, in which the second and third likeliest intents count
for more than in raw probabilities, so two messages the model is unsure about in the same way
end up near each other). Spectral clustering on the graph of each message's 15 nearest neighbours
groups the result (above a few thousand messages: on a sample, every message then joining its
nearest topic centre), with k chosen by the silhouette of k-means on a sample. A topic is named by
its words that are frequent in it and rare elsewhere (class-based TF-IDF over jieba tokens and
English words, Traditional folded into Simplified), and shown by the messages nearest its centre.

Everything here is pure: vectors in, topics out. `bench/insight_bench.py` measures it on the pack's
labelled topic set.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans, SpectralClustering
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from helixdesk.nlu.embeddings import e5_embed
from helixdesk.nlu.features import tokenize
from helixdesk.nlu.text import normalise

# Words that say nothing about a topic (after normalising: lower case, Simplified).
_STOP_WORDS = """
    的 了 吗 呢 吧 啊 呀 我 你 您 他 她 我们 你们 是 在 有 和 就 都 也 还 又 很 太 这 那 这个 那个 一个 什么
    怎么 为什么 怎么办 请问 请 谢谢 一下 能 可以 会 要 想 没有 没 不 不是 了吗 嗎 唔 係 嘅 咗 咩 點解 啲 佢 冇
    我哋 你哋 呢個 嗰 同 俾 畀 係咪 已经 现在 今天 昨天 还是 但是 因为 所以 如果 然后 到底 一直 真的 这样 那么
    the a an and or but to of in on for at by with from is are was were be been am i you we my your our
    it its this that these those do does did have has had can could would should will not no yes please
    thanks thank hi hello me us they them there what why how when where which who any some still just
    already so if as about get got been being im i'm dont don't cant can't
    """
_STOP = frozenset(normalise(w) for w in _STOP_WORDS.split())
# The weight of the intent probabilities beside the embeddings, each row of them centred and made
# unit length (`features(..., intent_root=False)`, and `insight.space.Space`): chosen with k-means
# on the first dev topic set, 0.3-1.0 tried, 0.5 best.
INTENT_WEIGHT = 0.5
# The weight of their square roots, centred (`features`' default): chosen on the two dev topic sets
# with spectral clustering, 0.35-0.7 tried; 0.35-0.5 are alike at the true k, 0.4 best with k
# chosen by the silhouette on both.
ROOT_INTENT_WEIGHT = 0.4
# Spectral clustering: neighbours per message in the graph. 10, 15, 20 and 30 are alike on the two
# dev topic sets (15: ARI 0.746 / 0.770, 30: 0.748 / 0.764 with k by silhouette); on the demo month
# (`insight.demo`: 978 distinct texts, 39 known topics) 30 keeps every language of the planted
# theme in one topic where 15 split it by script at some k (ARI at the true k 0.906 against 0.901).
# The nearest centre of the topics found on a sample of at most `SPECTRAL_SAMPLE` messages takes
# every other message.
NEIGHBOURS = 30
SPECTRAL_SAMPLE = 3000
# The k the silhouette chooses among when the caller gives none.
CANDIDATES = tuple(range(6, 41))
_WORD = re.compile(r"[a-z][a-z'\-]{2,}|[\u3400-\u9fff]{2,}")


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic: its messages (indices into the input), the words that name it, the messages
    nearest its centre, and how many messages of each language it holds."""

    id: int
    members: tuple[int, ...]
    keywords: tuple[str, ...]
    representatives: tuple[int, ...]
    languages: dict[str, int]

    @property
    def size(self) -> int:
        return len(self.members)


def embed_messages(texts: Sequence[str]) -> np.ndarray:
    """multilingual-e5-small "query:" embeddings of the normalised texts (Traditional folded into
    Simplified, which brings zh-Hant closer to zh-Hans), one unit row per text (cached per text)."""
    return np.asarray(e5_embed([f"query: {normalise(t)}" for t in texts]), dtype=np.float32)


def features(
    vectors: np.ndarray,
    languages: Sequence[str],
    intents: np.ndarray | None = None,
    intent_weight: float | None = None,
    *,
    intent_root: bool = True,
    styles: Sequence[str] | None = None,
) -> np.ndarray:
    """What topics are clustered on: the embeddings centred per language (and then, when `styles`
    are given, per style: see `align`) and, when given, the NLU's
    intent probabilities: their square roots centred per language and scaled by `intent_weight`
    (default `ROOT_INTENT_WEIGHT`); with `intent_root=False`, as before: the probabilities centred
    per language, each row made unit length, then scaled (default `INTENT_WEIGHT`). The intent model was trained on the same
    requests in all three languages, so its probabilities are close across languages where the
    embeddings are not."""
    aligned = align(vectors, languages, styles)
    if intents is None:
        return aligned
    if not intent_root:  # the features before the second dev set
        weight = INTENT_WEIGHT if intent_weight is None else intent_weight
        return np.hstack([aligned, weight * align(intents, languages)]).astype(np.float32)
    weight = ROOT_INTENT_WEIGHT if intent_weight is None else intent_weight
    roots = np.sqrt(np.clip(np.asarray(intents, dtype=np.float32), 0.0, None))
    return np.hstack([aligned, weight * centre(roots, languages)]).astype(np.float32)


def centre(vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
    """Each language's rows minus that language's mean."""
    out = np.array(vectors, dtype=np.float32, copy=True)
    codes = np.asarray(languages)
    for language in set(languages):
        rows = codes == language
        out[rows] -= out[rows].mean(axis=0)
    return out


def align(vectors: np.ndarray, languages: Sequence[str], styles: Sequence[str] | None = None) -> np.ndarray:
    """Each language centred on its own mean, then, when `styles` are given, each style (where a
    message was written: a chat, a post on social media, a comment after a chat, ...) on its own
    mean, then every row back to unit length.

    A style shifts every vector the way a language does: posts at the bank with their @mentions and
    hashtags, or comments that start by thanking the agent, are near each other whatever they are
    about, and without this clustering gathers each style's odd ones into a topic of their own."""
    out = centre(vectors, languages)
    if styles is not None:
        out = centre(out, styles)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.maximum(norms, 1e-9)
    return out


def cluster(
    vectors: np.ndarray, k: int, seed: int = 0, *, method: str = "kmeans"
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and centres: k-means (`method="kmeans"`, the default as before, mini-batch above
    20,000 rows) or spectral clustering (`"spectral"`, see `spectral`; what `mine` uses)."""
    k = max(1, min(k, len(vectors)))
    if method == "spectral":
        return spectral(vectors, k, seed)
    if method != "kmeans":
        raise ValueError(f"unknown clustering method {method!r}")
    return kmeans(vectors, k, seed)


def kmeans(vectors: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """K-means labels and centres (mini-batch above 20,000 rows)."""
    k = max(1, min(k, len(vectors)))
    if len(vectors) > 20_000:
        km: KMeans | MiniBatchKMeans = MiniBatchKMeans(
            n_clusters=k, random_state=seed, batch_size=4096, n_init=3
        )
    else:
        km = KMeans(n_clusters=k, random_state=seed, n_init=10)
    labels = km.fit_predict(vectors)
    return np.asarray(labels), np.asarray(km.cluster_centers_)


def spectral(
    vectors: np.ndarray,
    k: int,
    seed: int = 0,
    *,
    neighbours: int = NEIGHBOURS,
    sample: int = SPECTRAL_SAMPLE,
) -> tuple[np.ndarray, np.ndarray]:
    """Spectral clustering of the unit rows on the graph of each row's `neighbours` nearest rows.

    Up to `sample` rows are clustered as they are; above that, a random sample of `sample` rows is,
    and every row then joins the topic whose centre (the mean of the sample's members) is nearest
    by cosine, so the cost stays a few seconds whatever the number of rows."""
    k = max(1, min(k, len(vectors)))
    unit = _unit(np.asarray(vectors, dtype=np.float32))
    if k == 1 or len(unit) <= max(k, 2):
        labels = np.arange(len(unit)) % k if k > 1 else np.zeros(len(unit), dtype=np.int64)
        return labels, _centres(unit, labels, k)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(unit), sample, replace=False)) if len(unit) > sample else None
    fit = unit if rows is None else unit[rows]
    model = SpectralClustering(
        n_clusters=k,
        affinity="nearest_neighbors",
        # At most half the rows: on a tiny set a graph of nearly every row joins every topic.
        n_neighbors=min(neighbours, max(2, len(fit) // 2), len(fit) - 1),
        random_state=seed,
    )
    with warnings.catch_warnings():
        # Topics far apart leave the graph in pieces: then each piece is a topic or more, as wanted.
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        labels = np.asarray(model.fit_predict(fit), dtype=np.int64)
    # Spectral clustering may leave a label unused; number the used ones 0..n-1.
    _, labels = np.unique(labels, return_inverse=True)
    centres = _centres(fit, labels, int(labels.max()) + 1)
    if rows is None:
        return labels, centres
    return nearest_centre(unit, centres), centres


def nearest_centre(vectors: np.ndarray, centres: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """Each row's nearest centre by cosine (rows are unit length)."""
    unit_centres = _unit(centres)
    out = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        out[start : start + chunk] = np.argmax(vectors[start : start + chunk] @ unit_centres.T, axis=1)
    return out


def _centres(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    centres = np.zeros((k, vectors.shape[1]), dtype=np.float32)
    np.add.at(centres, labels, vectors)
    counts = np.bincount(labels, minlength=k).astype(np.float32)
    return centres / np.maximum(counts, 1.0)[:, None]


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-9), dtype=np.float32)


def choose_k(
    vectors: np.ndarray, candidates: Sequence[int] = CANDIDATES, seed: int = 0, sample: int = 3000
) -> int:
    """The candidate k with the best silhouette (cosine) of k-means, both on a random sample of at
    most `sample` rows. (K-means' silhouette picks the number of topics better than spectral
    clustering's does on the dev sets: the latter overshoots.)"""
    if len(vectors) > sample:
        rows = np.random.default_rng(seed).choice(len(vectors), sample, replace=False)
        vectors = np.asarray(vectors)[np.sort(rows)]
    usable = [k for k in candidates if 2 <= k < len(vectors)]
    if not usable:
        return 1
    best, best_score = usable[0], -2.0
    # One thread: k-means' OpenMP threads on a busy 2-core machine run about 10x slower than one.
    with threadpool_limits(limits=1):
        for k in usable:
            labels, _ = kmeans(vectors, k, seed)
            if len(set(labels.tolist())) < 2:
                continue
            score = float(silhouette_score(vectors, labels, metric="cosine"))
            if score > best_score:
                best, best_score = k, score
    return best


def keywords(texts: Sequence[str], labels: np.ndarray, top: int = 6) -> dict[int, tuple[str, ...]]:
    """Each cluster's words, by class-based TF-IDF: frequent in the cluster, rare in the others."""
    counts: dict[int, Counter[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        words = [w for w in tokenize(normalise(text)) if _WORD.fullmatch(w) and w not in _STOP]
        counts.setdefault(int(label), Counter()).update(set(words))
    clusters = len(counts)
    spread = Counter(w for c in counts.values() for w in c)
    out: dict[int, tuple[str, ...]] = {}
    for label, c in counts.items():
        size = sum(1 for x in labels if int(x) == label)
        scored = sorted(
            ((n / size) * math.log(1 + clusters / spread[w]), w) for w, n in c.items() if n >= 2 or size < 4
        )
        out[label] = tuple(w for _, w in reversed(scored[-top:]))
    return out


def representatives(
    vectors: np.ndarray, labels: np.ndarray, centres: np.ndarray, n: int = 3
) -> dict[int, tuple[int, ...]]:
    """Each cluster's `n` messages nearest its centre (indices)."""
    out: dict[int, tuple[int, ...]] = {}
    for label in sorted({int(x) for x in labels}):
        rows = np.flatnonzero(labels == label)
        centre = centres[label] / max(float(np.linalg.norm(centres[label])), 1e-9)
        nearest = rows[np.argsort(-(vectors[rows] @ centre))[:n]]
        out[label] = tuple(int(i) for i in nearest)
    return out


def mine(
    texts: Sequence[str],
    languages: Sequence[str],
    vectors: np.ndarray,
    *,
    intents: np.ndarray | None = None,
    k: int | None = None,
    candidates: Sequence[int] = CANDIDATES,
    seed: int = 0,
    method: str = "spectral",
    intent_weight: float | None = None,
    intent_root: bool = True,
    styles: Sequence[str] | None = None,
) -> list[Topic]:
    """The topics of `texts` (their `languages`, their `vectors`, optionally the NLU's intent
    probabilities, optionally their styles: see `align`), largest first. `method` is "spectral" (the default) or "kmeans" (the method
    before spectral clustering, kept for comparison, as are `intent_root=False` and
    `intent_weight=0.5`)."""
    if len(texts) == 0:
        return []
    aligned = features(vectors, languages, intents, intent_weight, intent_root=intent_root, styles=styles)
    k = k or choose_k(aligned, candidates, seed)
    labels, centres = cluster(aligned, k, seed, method=method)
    words = keywords(texts, labels)
    nearest = representatives(aligned, labels, centres)
    topics = []
    for label in sorted({int(x) for x in labels}):
        members = tuple(int(i) for i in np.flatnonzero(labels == label))
        topics.append(
            Topic(
                id=label,
                members=members,
                keywords=words.get(label, ()),
                representatives=nearest[label],
                languages=dict(Counter(languages[i] for i in members)),
            )
        )
    return sorted(topics, key=lambda t: -t.size)
