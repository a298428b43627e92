"""The emotion model: data loaders, cues, scores and intensity, artefacts and the stage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helixdesk.core.turn import EMOTIONS, Turn
from helixdesk.nlu.emotion import (
    EmotionClassifier,
    EmotionConfig,
    EmotionModelError,
    load_emotion_model,
    read_manifest,
    train_emotion_model,
)
from helixdesk.nlu.emotion.artefacts import MANIFEST_FILE, MODEL_FILE, TrainResult
from helixdesk.nlu.emotion.cues import cue_features, cue_strength, find_cues, hedge_factor
from helixdesk.nlu.emotion.data import (
    EmotionDataError,
    load_jsonl_examples,
    load_pack_examples,
    load_xed,
)
from helixdesk.nlu.emotion.model import dedupe, fit_temperature, softmax, targets
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.nlu.stage import build_stage, registered_stages

FIXTURE = Path(__file__).parent / "fixtures" / "emotions.yaml"
ANGRY = "气死我了！！！你们到底管不管"
MILD = "有点不满意"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> TrainResult:
    out = tmp_path_factory.mktemp("models") / "emotion"
    heldout = tmp_path_factory.mktemp("heldout") / "emotions.jsonl"
    rows = [
        {"text": "太开心了，钱到账了！！", "label": "joy", "intensity": 0.9},
        {"text": "我想查余额", "label": "neutral", "intensity": 0.0},
        {"text": "I'm furious, fix it NOW!!!", "label": "anger", "intensity": 1.0},
        {"text": "a bit worried about my card", "label": "fear", "intensity": 0.3},
    ]
    heldout.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return train_emotion_model(
        out,
        pack=FIXTURE,
        use_xed=False,
        heldout=heldout,
        config=EmotionConfig(val_fraction=0.2),
    )


@pytest.fixture(scope="module")
def model(trained) -> EmotionClassifier:
    return trained.model


# ---------- data ----------


def test_pack_yaml_loads_all_nine_labels_in_three_scripts():
    examples = load_pack_examples(FIXTURE)
    assert {e.label for e in examples} == set(EMOTIONS)
    assert {e.language for e in examples} == {"zh-Hans", "zh-Hant", "en"}
    assert all(e.source == "pack" for e in examples)


def test_unknown_label_is_a_clear_error(tmp_path):
    bad = tmp_path / "emotions.yaml"
    bad.write_text("rage:\n  en: [grr]\n", "utf-8")
    with pytest.raises(EmotionDataError, match="unknown emotion 'rage'"):
        load_pack_examples(bad)


def test_jsonl_loader_reads_label_and_intensity(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"text": "好怕", "label": "fear", "intensity": 0.7}\n\n{"text": "ok", "emotion": "Neutral"}\n'
    )
    rows = load_jsonl_examples(path)
    assert [(r.text, r.labels, r.intensity) for r in rows] == [
        ("好怕", ("fear",), 0.7),
        ("ok", ("neutral",), None),
    ]
    path.write_text('{"text": "x"}\n')
    with pytest.raises(EmotionDataError, match=r"h\.jsonl:1"):
        load_jsonl_examples(path)


def test_xed_loader_maps_ids_alphabetically_and_skips_malformed_lines(tmp_path):
    (tmp_path / "AnnotatedData").mkdir()
    (tmp_path / "Projections").mkdir()
    (tmp_path / "AnnotatedData" / "en-annotated.tsv").write_text(
        "You idiot!\t1, 3\nHooray\t5\nbroken line without label\n", "utf-8"
    )
    (tmp_path / "AnnotatedData" / "neu_en.txt").write_text("9\tOne moment please.\n", "utf-8")
    (tmp_path / "Projections" / "cn-projections.tsv").write_text("太好了\t5\n文字\t不是标签\n", "utf-8")
    examples = load_xed(tmp_path)
    assert [(e.text, e.labels, e.source) for e in examples] == [
        ("You idiot!", ("anger", "disgust"), "xed:en"),
        ("Hooray", ("joy",), "xed:en"),
        ("One moment please.", ("neutral",), "xed:en_neutral"),
        ("太好了", ("joy",), "xed:cn"),
    ]


def test_dedupe_keeps_the_first_copy_across_scripts():
    examples = load_pack_examples(FIXTURE)
    kept, normalized = dedupe(examples)
    assert len(kept) == len(normalized) < len(examples)  # the zh-Hant copies collapse onto zh-Hans
    assert len(set(normalized)) == len(normalized)


# ---------- cues and maths ----------


def test_cues_see_emphasis_and_hedges():
    angry = find_cues(ANGRY)
    assert angry.exclamations == 3 and angry.repeated_punct == 1
    assert angry.strong >= 1 and angry.intensifiers >= 1
    assert find_cues("WHY IS MY CARD BLOCKED").caps_words == 5
    assert find_cues("my ATM PIN").caps_words == 0  # acronyms do not shout
    assert cue_strength(angry) > 0.8 > cue_strength(find_cues("我想查余额")) == 0.0
    assert hedge_factor(find_cues(MILD)) < 1.0 == hedge_factor(find_cues("不满意"))
    block = cue_features([ANGRY, "ok"])
    assert block.shape == (2, 9) and block.dtype == np.float32 and not block[1].any()


def test_soft_targets_and_temperature():
    examples = load_pack_examples(FIXTURE)[:3]
    assert np.allclose(targets(examples).sum(axis=1), 1.0)
    scores = np.array([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [4.0, 0.0]], dtype=np.float32)
    soft = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.float32)  # the model is right 3 times in 4
    t = fit_temperature(scores, soft)
    assert t > 1.0  # overconfident scores get softened
    assert np.allclose(softmax(scores / t).sum(axis=1), 1.0)


# ---------- model ----------


def test_scores_cover_nine_labels_and_sum_to_one(model):
    for emotion in model.predict([ANGRY, MILD, "How do I check my balance?", "谢谢你们，太棒了！", ""]):
        assert set(emotion.scores) == set(EMOTIONS)
        assert sum(emotion.scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert emotion.label == max(emotion.scores, key=emotion.scores.__getitem__)
        assert 0.0 <= emotion.intensity <= 1.0


def test_intensity_is_higher_for_shouted_anger_than_mild_displeasure(model):
    angry, mild = model.predict([ANGRY, MILD])
    assert angry.intensity > mild.intensity
    assert angry.intensity > 0.6


def test_obvious_messages_get_the_obvious_label(model):
    labels = [e.label for e in model.predict(["卡被盗刷了，好害怕", "How do I update my address?"])]
    assert labels == ["fear", "neutral"]


def test_label_scores_are_independent_per_label_and_rank_like_the_probabilities(model):
    texts = [ANGRY, MILD, "How do I check my balance?"]
    scores = model.label_scores(texts)
    proba = model.predict_proba(texts)
    assert scores.shape == (3, len(EMOTIONS))
    assert not np.allclose(scores.sum(axis=1), 1.0)  # not normalised across labels
    assert (scores.argmax(axis=1) == proba.argmax(axis=1)).all()
    assert model.label_scores([]).shape == (0, len(EMOTIONS))


def test_training_needs_two_labels():
    examples = [e for e in load_pack_examples(FIXTURE) if e.label == "joy"]
    with pytest.raises(ValueError, match="two labels"):
        EmotionClassifier.train(examples)


# ---------- artefacts ----------


def test_manifest_records_version_data_config_and_metrics(trained):
    manifest = json.loads((trained.out_dir / MANIFEST_FILE).read_text("utf-8"))
    assert manifest["kind"] == "emotion" and manifest["format"] == "helixdesk.emotion/1"
    assert manifest["version"].endswith(manifest["model_sha256"][:8])
    assert len(manifest["data"]["pack"]["sha256"]) == 64
    assert "xed" not in manifest["data"]  # trained with use_xed=False
    assert manifest["labels"] == list(EMOTIONS)
    assert manifest["config"]["classifier"] == "svm"
    heldout = manifest["metrics"]["heldout"]
    assert heldout["n"] == 4 and "intensity_pearson" in heldout
    assert read_manifest(trained.out_dir) == manifest


def test_artefact_round_trip(trained, model, tmp_path):
    loaded = load_emotion_model(trained.out_dir)
    texts = [ANGRY, MILD, "I trust you to fix it"]
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    # The shared NLU model folder (DIR/emotion, as `helixdesk nlu train` writes it) resolves too.
    assert isinstance(load_emotion_model(trained.out_dir.parent), EmotionClassifier)


def test_tampered_or_missing_model_is_refused(trained, tmp_path):
    copy = tmp_path / "emotion"
    copy.mkdir()
    (copy / MANIFEST_FILE).write_text((trained.out_dir / MANIFEST_FILE).read_text("utf-8"), "utf-8")
    (copy / MODEL_FILE).write_bytes((trained.out_dir / MODEL_FILE).read_bytes() + b"x")
    with pytest.raises(EmotionModelError, match="checksum"):
        load_emotion_model(copy)
    with pytest.raises(EmotionModelError, match="nlu train"):
        load_emotion_model(tmp_path / "nowhere")


# ---------- stage ----------


def test_stage_is_registered_and_fills_turn_emotion(trained):
    assert "emotion" in registered_stages()
    stage = build_stage("emotion", model_dir=str(trained.out_dir.parent))
    turn = stage.run(Turn(text=ANGRY))
    assert turn.emotion is not None and turn.emotion.label in EMOTIONS
    assert set(turn.to_dict()["emotion"]["scores"]) == set(EMOTIONS)


def test_stage_in_pipeline_after_normalise(trained):
    pipeline = NLUPipeline.from_config(["normalise", {"name": "emotion", "model_dir": str(trained.out_dir)}])
    turn = pipeline.parse("卡被盜刷了，好害怕")
    assert turn.emotion is not None and turn.emotion.label == "fear"


def test_stage_missing_model_errors_or_skips(tmp_path):
    with pytest.raises(EmotionModelError):
        build_stage("emotion", model_dir=str(tmp_path)).warm_up()
    stage = build_stage("emotion", model_dir=str(tmp_path), if_missing="skip")
    turn = Turn(text="hi")
    assert stage.run(turn) is turn
