"""The intent classifier: data loaders, ranking, confidences, threshold, artefacts and the stage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helixdesk.core.turn import Turn
from helixdesk.nlu.features import FeatureConfig
from helixdesk.nlu.intent import OOS_LABEL, IntentClassifier, IntentConfig, MemberConfig, load_examples
from helixdesk.nlu.intent.artefacts import (
    MANIFEST_FILE,
    MODEL_FILE,
    ModelArtefactError,
    load_model,
    resolve_model_dir,
    save_model,
)
from helixdesk.nlu.intent.data import DataError, data_sha256
from helixdesk.nlu.intent.evaluation import evaluate
from helixdesk.nlu.intent.model import fit_temperature, softmax, stratified_split, tune_threshold
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.nlu.stage import registered_stages
from helixdesk.nlu.stages.intent import IntentStage

FIXTURES = Path(__file__).parent / "fixtures" / "intents"


@pytest.fixture(scope="module")
def examples():
    return load_examples(FIXTURES)


@pytest.fixture(scope="module")
def model(examples) -> IntentClassifier:
    return IntentClassifier.train(examples, IntentConfig(val_fraction=0.25))


# ---------- data ----------


def test_yaml_folder_loads_every_language_and_canonicalises_oos(examples):
    labels = {e.label for e in examples}
    assert labels == {"balance", "card_lost", "transfer", OOS_LABEL}
    assert {e.language for e in examples} == {"zh-Hans", "zh-Hant", "en"}
    assert len(examples) == 4 * 20


def test_csv_json_and_jsonl_loaders(tmp_path):
    (tmp_path / "d.csv").write_text("text,label\nhello,greet\nbye,oos\n", "utf-8")
    rows = [{"text": "hello", "label": "greet"}, {"text": "bye", "intent": "out_of_scope"}]
    (tmp_path / "d.json").write_text(json.dumps(rows), "utf-8")
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", "utf-8")
    for name in ("d.csv", "d.json", "d.jsonl"):
        loaded = load_examples(tmp_path / name)
        assert [(e.text, e.label) for e in loaded] == [("hello", "greet"), ("bye", OOS_LABEL)]


def test_bad_data_gives_a_clear_error(tmp_path):
    (tmp_path / "bad.csv").write_text("sentence,tag\nhi,x\n", "utf-8")
    with pytest.raises(DataError, match="'text' and a 'label'"):
        load_examples(tmp_path / "bad.csv")
    (tmp_path / "bad.jsonl").write_text('{"text": "hi", "label": "x"}\nnot json\n', "utf-8")
    with pytest.raises(DataError, match=r"bad.jsonl:2"):
        load_examples(tmp_path / "bad.jsonl")
    with pytest.raises(DataError, match="not found"):
        load_examples(tmp_path / "missing.csv")
    # An unquoted sentence with ": " in it is a mapping to YAML, not an example.
    (tmp_path / "colon.yaml").write_text(
        "intent: balance_inquiry\nexamples:\n  en:\n  - my balance please\n  - short on time: my balance?\n",
        "utf-8",
    )
    with pytest.raises(DataError, match=r"colon.yaml: examples.en holds .*quote a sentence"):
        load_examples(tmp_path / "colon.yaml")


def test_data_fingerprint_ignores_order(examples):
    assert data_sha256(examples) == data_sha256(list(reversed(examples)))
    assert data_sha256(examples) != data_sha256(examples[1:])


# ---------- model ----------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("我的信用卡丢了", "card_lost"),
        ("我的信用卡丟了，幫我掛失", "card_lost"),
        ("how much money do I have in my account", "balance"),
        ("帳戶裡還有多少錢", "balance"),
        ("my transfer to my friend failed", "transfer"),
        ("tell me a funny joke", OOS_LABEL),
    ],
)
def test_predicts_intents_in_every_script(model, text, label):
    (prediction,) = model.predict([text])
    assert prediction.intent.name == label


def test_ranking_is_top_k_sorted_calibrated_probabilities(model):
    (prediction,) = model.predict(["I lost my card"], top_k=3)
    confidences = [i.confidence for i in prediction.ranking]
    assert len(prediction.ranking) == 3
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert prediction.ranking[0] == prediction.intent
    proba = model.predict_proba(["I lost my card"])
    assert proba.shape == (1, len(model.labels))
    assert proba.sum() == pytest.approx(1.0, abs=1e-5)
    assert len(model.predict(["I lost my card"])[0].ranking) == len(model.labels)  # top 5 > 4 labels


def test_threshold_turns_unsure_messages_out_of_scope(model):
    (sure,) = model.predict(["check my balance"], threshold=0.0)
    assert sure.intent.name == "balance"
    (rejected,) = model.predict(["check my balance"], threshold=1.01)
    assert rejected.intent.name == OOS_LABEL
    assert rejected.intent.confidence == pytest.approx(1.0 - sure.intent.confidence, abs=1e-6)
    assert rejected.ranking == sure.ranking
    assert 0.0 <= model.threshold <= model.config.max_threshold
    assert model.heldout is not None and model.heldout.n > 0


def test_needs_two_intents(examples):
    with pytest.raises(ValueError, match="at least two intents"):
        IntentClassifier.train([e for e in examples if e.label == "balance"])


def test_tune_threshold_spends_at_most_the_allowed_in_scope_loss():
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.3, 0.25, 0.5], dtype=np.float32)
    pred = ["a", "b", "a", "b", "a", "b", "a", "a"]
    gold = ["a", "b", "a", "b", OOS_LABEL, OOS_LABEL, OOS_LABEL, "b"]  # the 0.5 one is wrong
    kw = {"max_threshold": 0.9}
    # no loss allowed: the lowest confidence of a correct in-scope prediction
    assert tune_threshold(conf, pred, gold, in_scope_loss=0.0, **kw) == pytest.approx(0.6)
    # 1 of 5 in-scope messages may be lost: the second lowest
    assert tune_threshold(conf, pred, gold, in_scope_loss=0.2, **kw) == pytest.approx(0.7)
    assert tune_threshold(conf, pred, gold, in_scope_loss=0.0, max_threshold=0.5) == 0.5
    assert tune_threshold(conf[4:7], pred[4:7], gold[4:7], in_scope_loss=0.0, **kw) == 0.0


def test_temperature_scaling_sharpens_underconfident_scores():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, size=200)
    scores = rng.normal(0, 0.05, size=(200, 3)).astype(np.float32)
    scores[np.arange(200), gold] += 0.3  # always right, but a softmax at T=1 is nearly uniform
    t = fit_temperature(scores, gold)
    assert t < 0.2
    assert softmax(scores / t).max(axis=1).mean() > 0.9


def test_stratified_split_holds_out_every_label():
    labels = ["a"] * 10 + ["b"] * 4 + ["c"] * 2
    train, held = stratified_split(labels, 0.2, seed=1)
    assert sorted(train + held) == list(range(16))
    assert {labels[i] for i in held} == {"a", "b"}  # c has too few examples to hold one out
    assert {labels[i] for i in train} == {"a", "b", "c"}


def test_evaluate_reports_oos_recall_and_confusions():
    report = evaluate(["a", "a", "b", "oos", "oos"], ["a", "b", "b", "out_of_scope", "a"])
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.oos_recall == pytest.approx(0.5)
    assert report.in_scope_accuracy == pytest.approx(2 / 3)
    assert ("a", "b", 1) in report.confused
    assert {s.label for s in report.per_label} == {"a", "b", OOS_LABEL}


# ---------- artefacts ----------


def test_artefact_round_trip_and_manifest(model, examples, tmp_path):
    manifest = save_model(model, tmp_path / "v1", data_sha256=data_sha256(examples))
    on_disk = json.loads((tmp_path / "v1" / MANIFEST_FILE).read_text("utf-8"))
    assert on_disk == manifest
    for key in (
        "version",
        "created_at",
        "data_sha256",
        "config",
        "labels",
        "metrics",
        "threshold",
        "packages",
    ):
        assert key in manifest
    assert manifest["labels"] == list(model.labels)
    assert manifest["packages"]["scikit-learn"]
    assert manifest["metrics"]["heldout"]["accuracy"] > 0.5
    assert IntentConfig.from_dict(manifest["config"]) == model.config
    loaded, loaded_manifest = load_model(tmp_path / "v1")
    assert loaded_manifest["version"] == manifest["version"]
    assert loaded.threshold == model.threshold
    texts = ["我要挂失", "what's my balance"]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)


def test_loader_refuses_tampered_or_foreign_artefacts(model, tmp_path):
    with pytest.raises(ModelArtefactError, match="nlu train"):
        load_model(tmp_path / "nothing")
    save_model(model, tmp_path / "m", data_sha256="0" * 64)
    path = tmp_path / "m" / MODEL_FILE
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ModelArtefactError, match="model_sha256"):
        load_model(tmp_path / "m")
    save_model(model, tmp_path / "f", data_sha256="0" * 64)
    manifest = json.loads((tmp_path / "f" / MANIFEST_FILE).read_text("utf-8"))
    manifest["format"] = 99
    (tmp_path / "f" / MANIFEST_FILE).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ModelArtefactError, match="unsupported"):
        load_model(tmp_path / "f")
    save_model(model, tmp_path / "v", data_sha256="0" * 64)
    manifest = json.loads((tmp_path / "v" / MANIFEST_FILE).read_text("utf-8"))
    manifest["packages"]["scikit-learn"] = "0.1.0"
    (tmp_path / "v" / MANIFEST_FILE).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ModelArtefactError, match="scikit-learn"):
        load_model(tmp_path / "v")


def test_newest_version_is_resolved(model, tmp_path):
    save_model(model, tmp_path / "intent" / "a", data_sha256="1" * 64)
    save_model(model, tmp_path / "intent" / "b", data_sha256="2" * 64)
    manifest = json.loads((tmp_path / "intent" / "a" / MANIFEST_FILE).read_text("utf-8"))
    manifest["created_at"] = "2999-01-01T00:00:00+00:00"
    (tmp_path / "intent" / "a" / MANIFEST_FILE).write_text(json.dumps(manifest), "utf-8")
    assert resolve_model_dir(tmp_path / "intent") == tmp_path / "intent" / "a"


# ---------- stage ----------


def test_intent_stage_is_registered_and_fills_the_turn(model):
    assert registered_stages()["intent"] is IntentStage
    pipeline = NLUPipeline(stages=[*NLUPipeline.from_config(["normalise"]).stages, IntentStage(model=model)])
    turn = pipeline.parse("我的銀行卡丟了")
    assert turn.intent is not None and turn.intent.name == "card_lost"
    assert turn.intent_ranking[0].name == "card_lost"
    assert turn.to_dict()["intent"]["name"] == "card_lost"
    (batched,) = IntentStage(model=model).run_batch(
        [Turn(text="我的銀行卡丟了", normalized="我的银行卡丢了")]
    )
    assert batched.intent == turn.intent


def test_intent_stage_without_a_model(tmp_path):
    stage = IntentStage(model_dir=tmp_path / "none", if_missing="skip")
    stage.warm_up()
    assert stage.run(Turn(text="hi")).intent is None
    with pytest.raises(ModelArtefactError):
        IntentStage(model_dir=tmp_path / "none").warm_up()
    with pytest.raises(ValueError, match="if_missing"):
        IntentStage(if_missing="ignore")  # type: ignore[arg-type]


def test_intent_stage_loads_from_model_root(model, tmp_path):
    save_model(model, tmp_path / "pack" / "intent" / "v1", data_sha256="0" * 64)
    stage = IntentStage(model_root=tmp_path, model_name="pack/intent", top_k=2)
    turn = stage.run(Turn(text="check my balance", normalized="check my balance"))
    assert turn.intent is not None and turn.intent.name == "balance"
    assert len(turn.intent_ranking) == 2


def test_cascade_consults_the_slow_member_only_when_unsure(examples, tmp_path):
    slow = MemberConfig(features=FeatureConfig(char_tfidf=False, word_tfidf=False), knn_weight=0.0)
    model = IntentClassifier.train(examples, IntentConfig(slow=slow, cascade_below=1.01, val_fraction=0.25))
    texts = ["我要挂失", "how much money do I have"]
    both = model.predict_proba(texts)
    fast_only = model.with_config(cascade_below=0.0).predict_proba(texts)
    assert not np.array_equal(both, fast_only)  # averaged with the slow member
    np.testing.assert_allclose(both.sum(axis=1), 1.0, atol=1e-5)
    save_model(model, tmp_path / "c", data_sha256="0" * 64)
    loaded, _ = load_model(tmp_path / "c")
    assert loaded.slow is not None
    np.testing.assert_allclose(loaded.predict_proba(texts), both, atol=1e-6)
