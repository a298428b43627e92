"""A label checked against the pack's vocabulary and the message, and how labels resolve an item."""

from __future__ import annotations

import pytest

from helixdesk.learning.errors import LabelError
from helixdesk.learning.labels import Given, LabelValue, Span, Vocabulary, resolve
from helixdesk.packs.loader import load_pack

VOCAB = Vocabulary.for_pack(load_pack("retail_bank").path)
TEXT = "昨天在美团被扣了3500元"
A = LabelValue("dispute_charge", "anger", (Span(3, 5, "merchant"), Span(8, 13, "money")))
B = LabelValue("unrecognized_transaction", "fear", ())


def test_the_vocabulary_is_the_packs_intents_with_out_of_scope_and_the_nine_emotions():
    assert {"balance_inquiry", "dispute_charge", "out_of_scope"} <= VOCAB.intents
    assert len(VOCAB.emotions) == 9 and "neutral" in VOCAB.emotions
    assert {"money", "merchant", "card_tail"} <= VOCAB.entity_types


def test_a_good_label_comes_back_with_its_spans_sorted_and_their_text():
    value = VOCAB.check(
        "dispute_charge",
        "anger",
        [{"type": "money", "start": 8, "end": 13}, {"type": "merchant", "start": 3, "end": 5}],
        TEXT,
    )
    assert value == A
    assert value.to_dict(TEXT)["entities"][0] == {"type": "merchant", "start": 3, "end": 5, "text": "美团"}


@pytest.mark.parametrize(
    ("intent", "emotion", "entities", "says"),
    [
        ("balance_enquiry", "neutral", [], "unknown intent 'balance_enquiry'"),
        ("balance_inquiry", "happy", [], "unknown emotion 'happy'"),
        (
            "balance_inquiry",
            "neutral",
            [{"type": "amount", "start": 0, "end": 2}],
            "unknown entity type 'amount'",
        ),
        ("balance_inquiry", "neutral", [{"type": "money", "start": 8, "end": 40}], "not inside the message"),
        (
            "balance_inquiry",
            "neutral",
            [{"type": "money", "start": "8", "end": 13}],
            "not inside the message",
        ),
        (
            "balance_inquiry",
            "neutral",
            [{"type": "money", "start": 8, "end": 13}, {"type": "merchant", "start": 10, "end": 12}],
            "overlap",
        ),
    ],
)
def test_a_bad_label_is_refused_with_a_message_naming_what_is_wrong(intent, emotion, entities, says):
    with pytest.raises(LabelError, match=says) as e:
        VOCAB.check(intent, emotion, entities, TEXT)
    assert e.value.code == "invalid_label"


def test_one_annotator_resolves_an_item_nobody_flagged():
    assert resolve(1, [], None).status == "open"
    done = resolve(1, [Given("u1", "annotator", A)], None)
    assert (done.status, done.final, done.resolution) == ("resolved", A, "single")


def test_an_annotator_agreeing_with_the_agents_correction_resolves_it_and_one_disagreeing_calls_a_second():
    agreed = resolve(1, [Given("u1", "annotator", A)], "dispute_charge")
    assert (agreed.status, agreed.resolution) == ("resolved", "agreement")
    assert resolve(1, [Given("u1", "annotator", B)], "dispute_charge").status == "second"


def test_the_second_annotator_settles_it_by_siding_with_the_first_or_with_the_agent():
    with_first = resolve(1, [Given("u1", "annotator", B), Given("u2", "annotator", B)], "dispute_charge")
    assert (with_first.status, with_first.final, with_first.resolution) == ("resolved", B, "agreement")
    with_agent = resolve(1, [Given("u1", "annotator", B), Given("u2", "annotator", A)], "dispute_charge")
    assert (with_agent.status, with_agent.final) == ("resolved", A)


def test_a_double_labelled_item_waits_for_two_and_two_who_differ_need_a_supervisor():
    assert resolve(2, [Given("u1", "annotator", A)], None).status == "open"
    assert resolve(2, [Given("u1", "annotator", A), Given("u2", "annotator", A)], None).final == A
    disputed = resolve(2, [Given("u1", "annotator", A), Given("u2", "annotator", B)], None)
    assert (disputed.status, disputed.final) == ("disputed", None)
    settled = resolve(
        2, [Given("u1", "annotator", A), Given("u2", "annotator", B), Given("s1", "supervisor", B)], None
    )
    assert (settled.status, settled.final, settled.resolution) == ("resolved", B, "supervisor")


def test_labels_that_differ_only_in_an_entity_span_differ():
    other = LabelValue(A.intent, A.emotion, (Span(3, 5, "merchant"),))
    assert (
        resolve(2, [Given("u1", "annotator", A), Given("u2", "annotator", other)], None).status == "disputed"
    )
