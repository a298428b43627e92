"""The learned re-ranker: question-type cues, the weights file and the listwise fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helixdesk.knowledge.cues import CUES, cue_vector, mean_cues
from helixdesk.knowledge.rerank import FEATURES, RankingModel, fit_ranking_model


def _cues(text: str) -> set[str]:
    return {name for name, on in zip(CUES, cue_vector(text), strict=True) if on}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("信用卡申请批下来没有", {"status"}),
        ("信用卡申請進度點樣查", {"status", "how"}),
        ("how do I apply for a credit card", {"how"}),
        ("why was my card declined", {"why", "failure"}),
        ("分期手续费怎么算", {"cost", "how"}),
        ("what happens if I only pay the minimum", {"consequence"}),
        ("卡寄出很久了还没收到", {"not_received"}),
        ("hello", set()),
    ],
)
def test_question_type_cues(text, expected):
    assert _cues(text) == expected


def test_an_entrys_cue_profile_is_the_share_of_its_questions():
    profile = mean_cues(
        ["怎么申请信用卡", "信用卡申请进度", "how to apply for a card", "card application status"]
    )
    assert profile[CUES.index("status")] == pytest.approx(0.5)
    assert profile[CUES.index("how")] == pytest.approx(0.5)
    assert mean_cues([]).shape == (len(CUES),)


def test_the_shipped_weights_cover_every_feature():
    model = RankingModel.default()
    assert set(model.weights) == set(FEATURES)
    assert model.vector().shape == (len(FEATURES),)
    # Learned, not hand-set: agreement on the question type helps, a missing type hurts.
    assert model.weights["cue_status"] > 0 > model.weights["cue_missing_status"]


def test_unknown_features_are_rejected_and_weights_round_trip(tmp_path):
    with pytest.raises(ValueError, match="unknown re-ranking features"):
        RankingModel(weights={"dense_q": 1.0, "colour": 2.0})
    path = tmp_path / "model.json"
    RankingModel(weights={"dense_q": 1.5, "intent": 0.25}, note="test").save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["note"] == "test"
    loaded = RankingModel.from_file(path)
    assert loaded.weights == {"dense_q": 1.5, "intent": 0.25}
    assert loaded.vector()[FEATURES.index("dense_q")] == 1.5
    assert loaded.vector()[FEATURES.index("bm25")] == 0.0


def test_the_listwise_fit_learns_which_feature_marks_the_right_candidate():
    rng = np.random.default_rng(1)
    informative = FEATURES.index("cue_status")
    groups = []
    for _ in range(60):
        x = rng.random((8, len(FEATURES)))
        right = np.zeros(8, dtype=bool)
        right[rng.integers(8)] = True
        x[:, informative] = np.where(right, 1.0, 0.0)
        groups.append((x, right))
    groups.append((rng.random((8, len(FEATURES))), np.zeros(8, dtype=bool)))  # unanswerable: skipped
    model = fit_ranking_model(groups, steps=300)
    weights = model.vector()
    assert int(np.argmax(weights)) == informative
    hits = sum(int(np.argmax(x @ weights)) == int(np.argmax(right)) for x, right in groups[:-1])
    assert hits == 60
    with pytest.raises(ValueError, match="no question"):
        fit_ranking_model([groups[-1]])


def test_dense_scores_pool_question_and_answer_rows_per_chunk():
    from helixdesk.knowledge.index import DenseIndex

    def unit(*xs):
        v = np.array(xs, dtype=np.float32)
        return v / np.linalg.norm(v)

    first = np.vstack([unit(1, 0, 0), unit(0.8, 0.6, 0), unit(0, 1, 0), unit(0, 0, 1)])  # q q q a
    second = np.vstack([unit(0, 1, 0), unit(0.6, 0.8, 0)])  # q a
    index = DenseIndex(vectors=[first, second], kinds=["qqqa", "qa"])
    scores = index.scores(unit(1, 0, 0))
    assert scores.q == pytest.approx([1.0, 0.0])
    assert scores.q2 == pytest.approx([0.9, 0.0])  # mean of the two best questions; the only one else
    assert scores.a == pytest.approx([0.0, 0.6])
