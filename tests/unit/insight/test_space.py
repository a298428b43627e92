"""The space a mining run clustered in: rows arriving later are centred on the run's stored means
(per language and per style), the same way the run centred its own rows; a space stored before
styles places rows as before."""

from __future__ import annotations

import numpy as np

from helixdesk.insight.space import MIN_LANGUAGE_ROWS, Space, style_of
from helixdesk.insight.topics import features


def _rows(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(0, 1, (n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    intents = rng.dirichlet(np.ones(4), n).astype(np.float32)
    languages = [("zh-Hans", "zh-Hant", "en")[i % 3] for i in range(n)]
    styles = [("web", "social", "csat")[(i // 3) % 3] for i in range(n)]
    return vectors, intents, languages, styles


def test_the_space_centres_new_rows_as_the_run_centred_its_own() -> None:
    vectors, intents, languages, styles = _rows()
    space = Space.fit(vectors, intents, languages, styles=styles)
    assert space.styles == ("csat", "social", "web")
    assert np.allclose(
        space.features(vectors, intents, languages, styles),
        features(vectors, languages, intents, styles=styles),
        atol=1e-5,
    )
    # Stored and read back, it places rows the same way.
    again = Space.from_bytes(space.with_topics(np.eye(3, 20), ["a", "b", "c"]).to_bytes())
    assert again.styles == space.styles
    assert np.allclose(
        again.features(vectors, intents, languages, styles),
        space.features(vectors, intents, languages, styles),
    )


def test_a_style_with_few_rows_or_unknown_is_not_centred() -> None:
    vectors, intents, languages, styles = _rows()
    styles = list(styles)
    rare = [i for i, s in enumerate(styles) if s == "csat"][: MIN_LANGUAGE_ROWS - 1]
    styles = ["web" if s == "csat" else s for s in styles]
    for i in rare:
        styles[i] = "callback"
    space = Space.fit(vectors, intents, languages, styles=styles)
    assert np.allclose(space.style_means[space.styles.index("callback")], 0.0)  # type: ignore[index]
    # A style the run never saw is not shifted: the same as the rows given without styles' shift.
    unknown = space.features(vectors[:3], intents[:3], languages[:3], ["wechat"] * 3)
    plain = Space.fit(vectors, intents, languages).features(vectors[:3], intents[:3], languages[:3])
    assert np.allclose(unknown, plain, atol=1e-6)


def test_a_space_stored_before_styles_ignores_them() -> None:
    vectors, intents, languages, styles = _rows()
    old = Space.fit(vectors, intents, languages)
    assert old.style_means is None
    stored = Space.from_bytes(old.with_topics(np.eye(2, 20), ["a", "b"]).to_bytes())
    assert np.allclose(
        stored.features(vectors, intents, languages, styles),
        old.features(vectors, intents, languages),
        atol=1e-6,
    )


def test_a_rows_style_is_its_chat_channel_or_its_feedback_source() -> None:
    assert style_of("chat", "web") == "web"
    assert style_of("chat", "app") == "app"
    assert style_of("social", "weibo") == "social"
    assert style_of("csat", "web") == "csat"


def test_styles_are_centred_only_when_two_have_enough_rows() -> None:
    """With one style of many rows and a few social posts, the big style's mean is only the posts
    mirrored: taking it away would move the chats off the posts, so neither is centred."""
    vectors, intents, languages, _ = _rows()
    styles = ["social" if i < MIN_LANGUAGE_ROWS - 1 else "web" for i in range(len(vectors))]
    space = Space.fit(vectors, intents, languages, styles=styles)
    assert space.style_means is None
    plain = Space.fit(vectors, intents, languages)
    assert np.allclose(
        space.features(vectors, intents, languages, styles),
        plain.features(vectors, intents, languages),
        atol=1e-6,
    )
