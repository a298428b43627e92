"""The learnt quality classifier, trained for real (multilingual-e5 and n-grams) on part of the
pack's training messages: its thresholds come from out-of-fold predictions, it finds in an agent's
message what the patterns miss with the best sentence as evidence, and it survives a save and a
load. (The full model is trained by `helixdesk nlu train`; `bench/qa_bench.py` measures it.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helixdesk.packs.loader import load_pack
from helixdesk.quality.model import (
    FORMAT,
    QualityClassifier,
    QualityModelError,
    load_quality_model,
    training_examples,
)
from helixdesk.quality.rules import RuleBook

pytestmark = pytest.mark.slow
PACK = load_pack("retail_bank")
BOOK = RuleBook.load(PACK)


@pytest.fixture(scope="module")
def trained() -> tuple[QualityClassifier, list[str]]:
    examples = training_examples(PACK)
    rude = [e for e in examples if e.labels == frozenset({"rude"})]
    clean = [e for e in examples if not e.labels and "rude" in e.scope][::4]
    products = [e for e in examples if "product_pitch" in e.scope][::3]
    model = QualityClassifier.train(rude + clean + products)
    # Rude messages in the training data that the pack's patterns do not catch.
    missed = [e.text for e in rude if "rude" not in {h.rule for h in BOOK.check_message(e.text, "agent")}]
    return model, missed


def test_thresholds_come_from_out_of_fold_predictions(trained: tuple[QualityClassifier, list[str]]) -> None:
    model, _ = trained
    assert model.rules == ("rude",)
    assert model.signals == ("product_pitch", "risk_stated")
    metrics = model.metrics["rude"]
    assert 0.5 <= model.thresholds["rude"] < 1.0
    assert metrics["cv_precision"] >= 0.9 and metrics["cv_recall"] > 0.3 and metrics["positives"] > 150


def test_the_classifier_adds_what_the_patterns_miss(trained: tuple[QualityClassifier, list[str]]) -> None:
    model, missed = trained
    assert missed, "every rude training message is caught by the patterns"
    book = BOOK.with_model(model)
    found = [t for t in missed if "rude" in {h.rule for h in book.check_message(t, "agent")}]
    assert len(found) >= len(missed) // 2, (len(found), len(missed))
    hit = next(h for h in book.check_message(found[0], "agent") if h.rule == "rude")
    assert hit.evidence and hit.evidence in found[0] and "learnt" in hit.detail
    # It reads people's messages; the bot's replies come from templates the patterns check.
    assert "rude" not in {h.rule for h in book.check_message(found[0], "bot")}
    for clean in ("您好，我马上为您查询这笔交易。", "Thanks for waiting, I've frozen the card for you."):
        assert book.check_message(clean, "agent") == []


def test_a_saved_model_loads_and_a_tampered_one_is_refused(tmp_path: Path, trained) -> None:  # type: ignore[no-untyped-def]
    import pickle

    from helixdesk.nlu import artefacts as shared

    model, _ = trained
    folder = tmp_path / "quality" / "v1"
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(pickle.dumps(model))
    manifest = {
        "kind": "quality",
        "format": FORMAT,
        "created_at": "2026-12-03T00:00:00+00:00",
        "model_file": "model.pkl",
        "model_sha256": shared.file_sha256(folder / "model.pkl"),
        "software": shared.package_versions(("scikit-learn",)),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert load_quality_model(tmp_path).thresholds == model.thresholds
    (folder / "model.pkl").write_bytes(b"not a model")
    with pytest.raises(QualityModelError):
        load_quality_model(tmp_path)


def test_product_checks_read_the_learnt_signals(trained: tuple[QualityClassifier, list[str]]) -> None:
    """Pitches and risk statements the product patterns miss: with the classifier, a pitch with
    no risk stated is a missing disclosure, and a risk statement in other words clears it."""
    from helixdesk.quality.rules import Line

    model, _ = trained
    book = BOOK.with_model(model)
    examples = [e for e in training_examples(PACK) if "product_pitch" in e.scope and e.language == "en"]
    ask = Line(sender="customer", text="I'd like to invest some money, what do you have?")

    def missing(text: str) -> bool:
        lines = [ask, Line(sender="agent", text=text)]
        return any(h.rule == "missing_risk_disclosure" for h in book.check_products(lines))

    def missing_by_patterns(text: str) -> bool:
        lines = [ask, Line(sender="agent", text=text)]
        return any(h.rule == "missing_risk_disclosure" for h in BOOK.check_products(lines))

    pitches = [e.text for e in examples if e.labels == frozenset({"product_pitch"})]
    unseen = [t for t in pitches if not missing_by_patterns(t)]
    assert unseen, "the patterns catch every pitch in the training data"
    assert sum(missing(t) for t in unseen) >= len(unseen) // 2, len(unseen)
    disclosed = [e.text for e in examples if e.labels == frozenset({"product_pitch", "risk_stated"})]
    flagged = [t for t in disclosed if missing_by_patterns(t)]  # risk in words the patterns miss
    assert flagged, "the patterns read every risk statement in the training data"
    assert sum(not missing(t) for t in flagged) >= len(flagged) // 2, len(flagged)
    # A promise of safety is never a risk statement, whatever the classifier reads in it.
    promise = "This fund is risk-free and your capital is guaranteed, you can't lose."
    assert missing(promise)
