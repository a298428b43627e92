"""Recall and false positives of the PII detector on the generated corpus (tests/privacy_corpus.py).

Nothing here is hard-coded: the corpus lists every item it embeds, and the counts come from it.
"""

from __future__ import annotations

from helixdesk.core.identifiers import hkid_ok, luhn_ok, resident_id_ok
from helixdesk.privacy import find_pii
from tests.privacy_corpus import false_positives, lookalike_messages, pii_messages, recall

PII = pii_messages()
LOOKALIKES = lookalike_messages()


def test_the_corpus_is_large_varied_and_deterministic() -> None:
    assert len(PII) >= 1000 and len(LOOKALIKES) >= 1000
    assert pii_messages()[:50] == PII[:50] and lookalike_messages()[:50] == LOOKALIKES[:50]
    assert {s.language for s in PII} == {"zh-Hans", "zh-Hant", "en"}
    assert sum(len(s.items) > 1 for s in PII) >= 100  # several per message
    cards = [i.text for s in PII for i in s.items if i.type == "card_number"]
    assert any(" " in c for c in cards) and any("-" in c for c in cards) and any("５" in c for c in cards)
    assert all(not s.items for s in LOOKALIKES)


def test_every_valid_card_and_id_number_is_found() -> None:
    result = recall(PII, find_pii)
    for kind in ("card_number", "id_number"):
        assert result.total[kind] >= 150
        missed = [(s.text, i.text) for s, i in result.misses if i.type == kind]
        assert missed == [], missed
        assert result.typed[kind] == result.total[kind], kind
    # Every card in the corpus passes Luhn and every ID its check: recall is on valid numbers.
    for sample in PII:
        for item in sample.items:
            plain = "".join(str(int(ch)) if ch.isdigit() else ch.upper() for ch in item.text if ch.isalnum())
            if item.type == "card_number":
                assert luhn_ok(plain), item
            elif item.type == "id_number":
                assert resident_id_ok(plain) or hkid_ok(plain[:-7], plain[-7:-1], plain[-1]), item


def test_recall_of_the_other_types_is_reported() -> None:
    result = recall(PII, find_pii)
    for kind in ("phone", "email", "account_number", "secret"):
        assert result.total[kind] >= 100, kind
        assert result.rate(kind) >= 0.95, (
            kind,
            [(s.text, i.text) for s, i in result.misses if i.type == kind],
        )


def test_few_look_alikes_are_taken_for_personal_data() -> None:
    fp = false_positives(LOOKALIKES, find_pii)
    assert fp.rate <= 0.02, (fp.rate, fp.by_kind, fp.examples[:10])
    # What is flagged is a number that really could be a card: 18 digits passing Luhn.
    for _sample, text in fp.examples:
        digits = "".join(ch for ch in text if ch.isdigit())
        assert luhn_ok(digits) or resident_id_ok(digits), text
