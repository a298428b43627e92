"""Topic mining: centring each language on its own mean puts one request in three languages into
one topic where plain clustering splits by language; keywords name a topic by its own words; the
representatives are the messages nearest its centre."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from helixdesk.insight.topics import align, choose_k, cluster, features, keywords, mine, spectral

LANGUAGES = ("zh-Hans", "zh-Hant", "en")


def _corpus(topics: int = 4, per: int = 10, seed: int = 0) -> tuple[np.ndarray, list[str], list[int]]:
    """Vectors of `topics` requests in three languages: a topic direction, plus a language shift
    larger than the distance between topics (as multilingual embeddings have), plus noise."""
    rng = np.random.default_rng(seed)
    dim = 32
    centres = rng.normal(0, 1, (topics, dim))
    shifts = {lang: rng.normal(0, 3, dim) for lang in LANGUAGES}
    rows, languages, truth = [], [], []
    for t in range(topics):
        for lang in LANGUAGES:
            for _ in range(per):
                rows.append(centres[t] + shifts[lang] + rng.normal(0, 0.3, dim))
                languages.append(lang)
                truth.append(t)
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), languages, truth


def test_centring_each_language_joins_its_topics_across_languages() -> None:
    vectors, languages, truth = _corpus()
    for method in ("spectral", "kmeans"):  # k-means is `cluster`'s default; `mine` uses spectral
        raw, _ = cluster(vectors, 4, method=method)
        aligned, _ = cluster(align(vectors, languages), 4, method=method)
        assert adjusted_rand_score(truth, aligned) > 0.95
        assert adjusted_rand_score(truth, raw) < 0.5  # plain clustering splits by language first
    centred = align(vectors, languages)
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)


def test_the_silhouette_picks_the_number_of_topics() -> None:
    vectors, languages, _ = _corpus(topics=5)
    assert choose_k(align(vectors, languages), range(2, 10)) == 5


def test_keywords_are_a_topics_own_words_and_representatives_its_nearest_messages() -> None:
    texts = [
        "退款怎么还没到账",
        "退款审核太慢了",
        "申请退款两周了还没退款",
        "my refund is still not here",
        "the refund is taking forever",
        "App登录不了",
        "手机银行登录一直失败",
        "cannot login to the app",
        "app login fails again",
    ]
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    words = keywords(texts, labels)
    assert words[0][0] == "退款" and "refund" in words[0]  # a word in two messages or more
    assert words[1][0] in {"登录", "login", "app"} and "退款" not in words[1]
    vectors, languages, truth = _corpus(topics=3, per=4)
    found = mine([f"m{i}" for i in range(len(truth))], languages, vectors, k=3)
    assert sorted(t.size for t in found) == [12, 12, 12]
    for topic in found:
        assert len(topic.representatives) == 3 and set(topic.representatives) <= set(topic.members)
        assert topic.languages == {"zh-Hans": 4, "zh-Hant": 4, "en": 4}
        assert len({truth[i] for i in topic.members}) == 1


def test_spectral_clustering_of_a_sample_gives_every_row_the_topic_of_its_nearest_centre() -> None:
    vectors, languages, truth = _corpus(topics=6, per=40)
    aligned = align(vectors, languages)
    labels, centres = spectral(aligned, 6, sample=120)  # 720 rows: a sample of 120 is clustered
    assert len(labels) == len(aligned) and centres.shape == (6, aligned.shape[1])
    assert adjusted_rand_score(truth, labels) > 0.95
    nearest = np.argmax(aligned @ (centres / np.linalg.norm(centres, axis=1, keepdims=True)).T, axis=1)
    assert (labels == nearest).all()
    exact, _ = spectral(aligned, 6)
    assert adjusted_rand_score(truth, exact) > 0.95


def test_intent_probabilities_join_as_square_roots_centred_per_language() -> None:
    vectors, languages, _ = _corpus(topics=2, per=3)
    intents = np.random.default_rng(1).dirichlet(np.ones(5), len(vectors)).astype(np.float32)
    joined = features(vectors, languages, intents, intent_weight=0.5)
    assert joined.shape == (len(vectors), vectors.shape[1] + 5)
    assert np.allclose(joined[:, : vectors.shape[1]], align(vectors, languages), atol=1e-6)
    roots = np.sqrt(intents)
    first = [i for i, lang in enumerate(languages) if lang == languages[0]]
    expected = 0.5 * (roots[first] - roots[first].mean(axis=0))
    assert np.allclose(joined[first, vectors.shape[1] :], expected, atol=1e-6)
    before = features(vectors, languages, intents, intent_root=False)  # INTENT_WEIGHT, 0.5
    assert np.allclose(np.linalg.norm(before[:, vectors.shape[1] :], axis=1), 0.5, atol=1e-5)


def test_centring_each_style_keeps_a_style_from_becoming_a_topic() -> None:
    """Posts on social media and comments after a chat read alike whatever they are about: a shift
    per style, as large as a language's, gathers them into topics of their own unless each style is
    centred too."""
    vectors, languages, truth = _corpus(topics=4, per=12)
    rng = np.random.default_rng(5)
    shift = {"chat": np.zeros(vectors.shape[1]), "social": rng.normal(0, 0.1, vectors.shape[1])}
    styles = ["social" if i % 3 == 0 else "chat" for i in range(len(vectors))]
    styled = np.array([v + shift[s] for v, s in zip(vectors, styles, strict=True)], dtype=np.float32)
    styled /= np.linalg.norm(styled, axis=1, keepdims=True)
    by_language, _ = cluster(features(styled, languages), 5, method="spectral")
    by_style, _ = cluster(features(styled, languages, styles=styles), 5, method="spectral")
    assert adjusted_rand_score(truth, by_style) > 0.9
    # Without: the social posts make a topic of their own, and the known topics lose them.
    assert adjusted_rand_score(truth, by_language) < adjusted_rand_score(truth, by_style) - 0.2
    centred = features(styled, languages, styles=styles)
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
