"""The fast featurisation and text paths give what the straightforward versions gave.

Each fast path is compared with a reference: the code it replaced, kept here as it was (the
`_reference_*` functions), or the library it stands in for (scikit-learn's `TfidfVectorizer`,
OpenCC). The texts are the retail-bank pack's held-out messages (zh-Hans, zh-Hant, en) plus random
strings built to hit the edge cases (odd letters, symbols, full-width forms, long runs).
"""

from __future__ import annotations

import copy
import json
import random
import re
import threading
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from opencc import OpenCC

import helixdesk
from helixdesk.core.turn import EMOTIONS
from helixdesk.nlu.emotion.cues import cue_features, find_cues
from helixdesk.nlu.emotion.model import EmotionClassifier, softmax
from helixdesk.nlu.entities.merchants import DEFAULT_MERCHANTS_PATH, MerchantGazetteer
from helixdesk.nlu.features import FeatureConfig, TextFeaturiser, char_ngrams, tokenize, word_ngrams
from helixdesk.nlu.intent.model import IntentClassifier
from helixdesk.nlu.risk import RiskDetector
from helixdesk.nlu.script import ScriptConverter
from helixdesk.nlu.text import fold_width, normalise
from helixdesk.nlu.tfidf import batch_grams, tfidf_rows

HELDOUT = Path(helixdesk.__file__).parent / "packs" / "retail_bank" / "nlu" / "heldout" / "intents.jsonl"
# Letters that case-fold into [a-z] (ſ, K, ı, İ), accents, curly quotes, full-width forms, the
# ideographic space, unassigned CJK compatibility code points, emoji.
_ODD = "abcz09 'ſKıİé’-!?。，我的卡丢了帳戶凍結銀行乾隆\uf900\ufada\u4dbf\u3400ＡＴＭ　\t\n😀"


@lru_cache(maxsize=1)
def _messages() -> tuple[str, ...]:
    rows = [json.loads(line) for line in HELDOUT.read_text("utf-8").splitlines() if line.strip()]
    return tuple(r["text"] for r in rows)


@lru_cache(maxsize=1)
def _odd_strings() -> tuple[str, ...]:
    rng = random.Random(7)
    out = ["".join(rng.choice(_ODD) for _ in range(rng.randint(0, 40))) for _ in range(400)]
    return (*out, "a" * 300, "我" * 200, "", " ", "x", "don't", "’s", "'abc")


def _texts() -> list[str]:
    return [*_messages(), *_odd_strings()]


def test_the_held_out_messages_cover_every_script():
    rows = [json.loads(line) for line in HELDOUT.read_text("utf-8").splitlines() if line.strip()]
    assert {r["language"] for r in rows} >= {"zh-Hans", "zh-Hant", "en"}
    assert len(rows) >= 300


# ---------- the previous implementations ----------

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:['’][a-z]+)?|[^\s\w]", re.I)
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?", re.I)


def _reference_tokenize(text: str) -> list[str]:
    from helixdesk.nlu.features import _jieba

    tokens: list[str] = []
    for match in _RUNS.finditer(text):
        run = match.group(0)
        if _CJK_RUN.fullmatch(run):
            tokens.extend(t for t in _jieba().lcut(run, HMM=True) if t.strip())
        elif _WORD.fullmatch(run):
            tokens.append(run)
    return tokens


def _reference_word_ngrams(text: str) -> list[str]:
    tokens = _reference_tokenize(text)
    return [*tokens, *(f"{a} {b}" for a, b in pairwise(tokens))]


def _reference_char_ngrams(text: str) -> list[str]:
    grams: list[str] = []
    for match in _RUNS.finditer(text):
        run = match.group(0)
        if _CJK_RUN.fullmatch(run):
            lo, hi, padded = 1, 4, run
        elif _WORD.fullmatch(run):
            lo, hi, padded = 2, 5, f" {run} "
        else:
            continue
        size = len(padded)
        for n in range(lo, min(hi, size) + 1):
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


def _reference_tfidf_rows(vectorizer, texts):
    """Row by row: counts in first-occurrence order, (log tf + 1) * idf, divided by the l2 norm."""
    vocabulary = vectorizer.vocabulary_
    idf = np.asarray(vectorizer.idf_, dtype=np.float32)
    analyzer = {char_ngrams: _reference_char_ngrams, word_ngrams: _reference_word_ngrams}[vectorizer.analyzer]
    indptr, indices, values = [0], [], []
    for text in texts:
        counts: dict[int, int] = {}
        for gram in analyzer(text):
            j = vocabulary.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        row = (np.log(tf) + np.float32(1.0)) * idf[idx]
        norm = float(np.sqrt(np.dot(row, row)))
        if norm > 0:
            row /= np.float32(norm)
        indices.append(idx)
        values.append(row)
        indptr.append(indptr[-1] + len(idx))
    data = np.concatenate(values) if values else np.zeros(0, np.float32)
    cols = np.concatenate(indices) if indices else np.zeros(0, np.int64)
    return sp.csr_matrix((data, cols, np.asarray(indptr)), shape=(len(texts), len(vocabulary)))


class _ReferenceFeaturiser(TextFeaturiser):
    """A fitted featuriser's vectorisers, featurising as before (row by row, embeddings via CSR)."""

    def __init__(self, fitted: TextFeaturiser) -> None:
        super().__init__(fitted.config)
        self._char, self._word = fitted._char, fitted._word

    def transform_blocks(self, texts, embeddings=None):
        blocks = [_reference_tfidf_rows(v, texts) for v in (self._char, self._word) if v is not None]
        blocks += [sp.csr_matrix(b).toarray() for b in self._embedding_blocks(texts, embeddings)]
        return blocks


def _reference_fold_width(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif code == 0x3000:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=8)
def _opencc(conversion: str) -> OpenCC:
    return OpenCC(conversion)


def _reference_normalise(text: str) -> str:
    folded = _reference_fold_width(text).lower()
    simplified = str(_opencc("t2s").convert(folded))
    return folded if len(simplified) != len(folded) else simplified


def _reference_cue_features(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), 9), dtype=np.float32)
    for i, text in enumerate(texts):
        c = find_cues(text)
        all_caps = c.latin_words >= 2 and c.caps_words >= max(2, c.latin_words - 1)
        row = (c.exclamations, c.questions, c.repeated_punct, c.caps_words, c.repeated_chars)
        row += (c.intensifiers, c.strong, c.hedges, int(all_caps))
        out[i] = np.log1p(np.asarray(row, dtype=np.float32))
    return out


# ---------- featurisation ----------


def test_the_analysers_cut_the_same_ngrams_as_before():
    for text in [normalise(t) for t in _texts()]:
        assert char_ngrams(text) == _reference_char_ngrams(text), text
        assert word_ngrams(text) == _reference_word_ngrams(text), text
        assert tokenize(text) == _reference_tokenize(text), text


@pytest.fixture(scope="module")
def featuriser() -> TextFeaturiser:
    texts = [normalise(t) for t in _messages()]
    fitted = TextFeaturiser(FeatureConfig(embedding_weight=0.0, min_df=1))
    fitted.fit(texts[::2])  # half of the messages: the other half has n-grams outside the vocabulary
    return fitted


@pytest.mark.parametrize("batch", [1, 7, 32, 500])
def test_tfidf_rows_are_the_previous_rows_bit_for_bit(featuriser, batch):
    texts = [normalise(t) for t in _texts()]
    for vectorizer in (featuriser._char, featuriser._word):
        for start in range(0, len(texts), batch):
            chunk = texts[start : start + batch]
            fast, reference = tfidf_rows(vectorizer, chunk), _reference_tfidf_rows(vectorizer, chunk)
            assert fast.dtype == np.float32 and fast.shape == reference.shape
            np.testing.assert_array_equal(fast.indptr, reference.indptr)
            np.testing.assert_array_equal(fast.indices, reference.indices)  # same order in each row
            np.testing.assert_array_equal(fast.data, reference.data)


def test_tfidf_rows_are_what_scikit_learn_computes(featuriser):
    texts = [normalise(t) for t in _texts()]
    for vectorizer in (featuriser._char, featuriser._word):
        fast, expected = tfidf_rows(vectorizer, texts), vectorizer.transform(texts)
        fast.sort_indices()
        expected.sort_indices()
        np.testing.assert_array_equal(fast.indptr, expected.indptr)
        np.testing.assert_array_equal(fast.indices, expected.indices)
        np.testing.assert_allclose(fast.data, expected.data, rtol=1e-6, atol=1e-7)


def test_a_batchs_ngrams_are_reused_only_for_the_same_texts_on_the_same_thread():
    first = batch_grams(char_ngrams, ["my card", "我的卡"])
    assert batch_grams(char_ngrams, ["my card", "我的卡"]) is first
    assert batch_grams(word_ngrams, ["my card", "我的卡"]) is not first
    other = batch_grams(char_ngrams, ["my card"])
    assert other is not first and other.grams == first.grams[: first.starts[1]]
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(batch_grams(char_ngrams, ["my card"])))
    thread.start()
    thread.join()
    assert elsewhere[0] is not other and elsewhere[0].grams == other.grams


def test_an_empty_batch_and_texts_without_known_ngrams_give_empty_rows(featuriser):
    assert tfidf_rows(featuriser._char, []).shape == (0, len(featuriser._char.vocabulary_))
    rows = tfidf_rows(featuriser._char, ["", "😀😀", "balance"])
    assert rows.getnnz(axis=1).tolist()[:2] == [0, 0] and rows.getnnz(axis=1)[2] > 0


# ---------- text ----------


def _convertible_strings(conversion: str) -> list[str]:
    """Random mixes of the conversion's own dictionary keys, pieces of them, separators and letters."""
    rng = random.Random(11)
    keys = [k for group in _opencc(conversion)._dict_chain_data for *_, d in group for k in d]
    phrases, chars = [k for k in keys if len(k) > 1], [k for k in keys if len(k) == 1]
    out = []
    for _ in range(600):
        parts = []
        for _ in range(rng.randint(1, 12)):
            pick = rng.random()
            if pick < 0.4:
                parts.append(rng.choice(phrases))
            elif pick < 0.5:
                parts.append(rng.choice(phrases)[: rng.randint(1, 3)])
            elif pick < 0.8:
                parts.append(rng.choice(chars))
            else:
                parts.append(rng.choice(" ,。-！ab1？「」的了我是"))
        out.append("".join(parts))
    return [*out, "銀行" * 1500, "乾隆" * 800 + "。後來"]


# t2s and s2t are what the NLU uses; hk2s chains two groups; s2twp has a dictionary that mixes
# single characters with phrases, which ScriptConverter leaves to the library.
@pytest.mark.parametrize("conversion", ["t2s", "s2t", "hk2s", "s2twp"])
def test_script_conversion_is_opencc(conversion):
    converter, opencc = ScriptConverter(conversion), _opencc(conversion)
    texts = [*_texts(), *_convertible_strings(conversion)]
    texts += [str(opencc.convert(t)) for t in _messages()]
    for text in texts:
        assert converter.convert(text) == opencc.convert(text), text


def test_width_folding_and_normalisation_are_as_before():
    every_bmp_character = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000)
    assert fold_width(every_bmp_character) == _reference_fold_width(every_bmp_character)
    for text in _texts():
        assert normalise(text) == _reference_normalise(text), text


def _reference_merchant_pattern(aliases: list[str]) -> re.Pattern[str]:
    parts = []
    for alias in sorted(aliases, key=len, reverse=True):
        piece = re.escape(alias).replace(r"\ ", r"[\s-]?")
        if alias[0].isascii() and alias[0].isalnum():
            piece = r"(?<![a-z0-9])" + piece
        if alias[-1].isascii() and alias[-1].isalnum():
            piece += r"(?![a-z0-9])"
        parts.append(piece)
    return re.compile("|".join(parts))


def test_the_merchant_scan_finds_what_the_plain_alternation_found():
    gazetteer = MerchantGazetteer.from_yaml(DEFAULT_MERCHANTS_PATH)
    aliases = list(gazetteer._canonical)
    reference = _reference_merchant_pattern(aliases)
    rng = random.Random(3)
    pieces = [*aliases, " ", "-", "x", "买", "a", "7", "在", "pay"]
    mixes = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(1500)]
    for text in [*(normalise(t) for t in _texts()), *mixes]:
        found = [(c.start, c.end, c.value) for c in gazetteer.find(text)]
        expected = [(m.start(), m.end(), m.group()) for m in reference.finditer(text)]
        assert [f[:2] for f in found] == [e[:2] for e in expected], text


def test_the_risk_scan_finds_what_it_found_without_the_shared_look_behind():
    detector = RiskDetector.from_yaml()
    for risk_type, lang, pattern, _ in detector._compiled:
        if lang != "en":
            continue
        hoisted = r"(?<![a-z0-9])(?:"
        assert pattern.pattern.startswith(hoisted) and pattern.pattern.endswith(")")
        reference = re.compile(pattern.pattern[len(hoisted) : -1])
        for text in (normalise(t).replace("’", "'") for t in _texts()):
            found = [(m.span(), m.lastgroup) for m in pattern.finditer(text)]
            assert found == [(m.span(), m.lastgroup) for m in reference.finditer(text)], (risk_type, text)


def test_the_cue_block_is_the_row_at_a_time_block():
    texts = [*_texts(), "气死我了！！！你们到底管不管", "WHY IS MY CARD BLOCKED???", "sooo slow......"]
    np.testing.assert_array_equal(cue_features(texts), _reference_cue_features(texts))


# ---------- the whole pipeline ----------


def _reference_intents(model: IntentClassifier, normalized: list[str], top_k: int, threshold):
    reference = copy.copy(model)
    reference.fast = copy.copy(model.fast)
    reference.fast.featuriser = _ReferenceFeaturiser(model.fast.featuriser)
    assert reference.slow is None  # the pack's model has no cascade
    return reference.predict(normalized, normalized=True, top_k=top_k, threshold=threshold)


def _reference_emotions(model: EmotionClassifier, texts: list[str], normalized: list[str]):
    """What `EmotionClassifier.predict` computed before: stack, cue block, decision_function."""
    x = _ReferenceFeaturiser(model.featuriser).transform(normalized)
    if model.config.cue_weight > 0:
        cues = sp.csr_matrix(_reference_cue_features(texts) * np.float32(model.config.cue_weight))
        x = sp.hstack([x, cues], format="csr", dtype=np.float32)
    raw = np.asarray(model.estimator.decision_function(x), dtype=np.float32)
    scores = np.full((len(texts), len(EMOTIONS)), -1e4, dtype=np.float32)
    scores[:, [int(c) for c in model.estimator.classes_]] = raw
    proba = softmax(scores / np.float32(model.temperature))
    return [
        (EMOTIONS[int(row.argmax())], model.intensity(text, row), row.tolist())
        for text, row in zip(texts, proba, strict=True)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("batch", [32, 5])
def test_parse_batch_predicts_what_the_previous_featurisation_predicted(nlu_pipeline, batch):
    texts = list(_messages()) if batch == 32 else list(_messages()[::10])
    stages = {s.name: s for s in nlu_pipeline.stages}
    intent_stage, emotion_stage = stages["intent"], stages["emotion"]
    for start in range(0, len(texts), batch):
        chunk = texts[start : start + batch]
        turns = nlu_pipeline.parse_batch(chunk)
        normalized = [_reference_normalise(t) for t in chunk]
        assert [t.normalized for t in turns] == normalized
        # The same batches as parse_batch: matrix products of other shapes can round differently.
        intents = _reference_intents(
            intent_stage.model, normalized, intent_stage.top_k, intent_stage.threshold
        )
        emotions = _reference_emotions(emotion_stage.model, chunk, normalized)
        for turn, intent, (label, intensity, scores) in zip(turns, intents, emotions, strict=True):
            assert turn.intent is not None and turn.intent.name == intent.intent.name, turn.text
            assert turn.intent.confidence == pytest.approx(intent.intent.confidence, abs=1e-6)
            assert [r.name for r in turn.intent_ranking] == [r.name for r in intent.ranking]
            got = [r.confidence for r in turn.intent_ranking]
            assert got == pytest.approx([r.confidence for r in intent.ranking], abs=1e-6)
            assert turn.emotion is not None and turn.emotion.label == label, turn.text
            assert turn.emotion.intensity == pytest.approx(intensity, abs=1e-6)
            assert list(turn.emotion.scores.values()) == pytest.approx(scores, abs=1e-6)
