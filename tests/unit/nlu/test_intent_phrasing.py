"""The pack's intent model reads Cantonese, negated and card-replacement wording as customers mean it.

The sentences are the pack's held-out lines (`nlu/heldout/intents.jsonl`) that carry a `group`:
`yue` (Hong Kong Cantonese: 碌卡, 找數, 過數, 額度, 唔/冇/咗 ...), `negation` ("not that one, I just
want ...", 不是要投诉, 唔係, idioms such as 刷不过), `card_reissue` (replacement cards, told apart from
lost/stolen, delivery and activation), `block_card` (explicit requests to block, freeze or lock
a card, which the pack handles as `card_lost_or_stolen`), `card_unfreeze` (unfreezing or unlocking a
card found again, told apart from freezing it, replacing it and a found card with charges on it),
`spending` (how much was spent in a period is `transaction_history`; how much is left is
`balance_inquiry`), `doubted` (not recognising one of several charges is `unrecognized_transaction`;
asking to dispute or charge back is `dispute_charge`) and `number` (a bare number or card tail is
not praise). None of them is a training example. The model is the one `nlu train` builds from the
pack, read through the pack's whole NLU pipeline. Each group is scored as a whole: the test asks
for an accuracy, not for one sentence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

import helixdesk
from helixdesk.dialogue.policy import load_policies
from helixdesk.nlu.intent.data import load_examples
from helixdesk.nlu.pipeline import NLUPipeline

PACK = Path(helixdesk.__file__).parent / "packs" / "retail_bank"
HELDOUT = PACK / "nlu" / "heldout" / "intents.jsonl"

# Accuracy each group must reach. Before these groups had training examples of their own the
# model read 89% of `yue`, 62% of `negation`, 34% of `card_reissue`, 33% of `block_card`, 21% of
# `card_unfreeze`, 38% of `spending`, 70% of `doubted` and 62% of `number`.
MINIMUM = {
    "yue": 0.92,
    "negation": 0.9,
    "card_reissue": 0.9,
    "block_card": 0.9,
    "card_unfreeze": 0.9,
    "spending": 0.9,
    "doubted": 0.9,
    "number": 0.9,
}


def _groups() -> dict[str, list[tuple[str, str]]]:
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if "group" in row:
                groups[row["group"]].append((row["text"], row["label"]))
    return groups


GROUPS = _groups()


def _read(pipeline: NLUPipeline, texts: list[str]) -> list[str | None]:
    return [t.intent.name if t.intent else None for t in pipeline.parse_batch(texts)]


def test_the_groups_are_held_out_and_large_enough() -> None:
    assert set(GROUPS) == set(MINIMUM)
    training = {e.text.strip() for e in load_examples("pack")}
    for name, rows in GROUPS.items():
        assert len(rows) >= 15, name
        assert not [text for text, _ in rows if text.strip() in training], name
    labels = {label for _, label in GROUPS["card_reissue"]}
    assert {"card_reissue", "card_lost_or_stolen", "card_delivery", "card_activation"} <= labels
    # Each group also holds the neighbours it must be told apart from.
    contrasts = {
        "card_unfreeze": {"card_unfreeze", "card_lost_or_stolen", "card_reissue", "card_fraud_report"},
        "spending": {"transaction_history", "balance_inquiry"},
        "doubted": {"unrecognized_transaction", "dispute_charge", "transaction_history"},
        "number": {"out_of_scope", "praise"},
    }
    for name, expected in contrasts.items():
        assert expected <= {label for _, label in GROUPS[name]}, name


@pytest.mark.slow
@pytest.mark.parametrize("group", sorted(MINIMUM))
def test_each_group_is_read_as_meant(nlu_pipeline: NLUPipeline, group: str) -> None:
    rows = GROUPS[group]
    read = _read(nlu_pipeline, [text for text, _ in rows])
    wrong = [(text, label, got) for (text, label), got in zip(rows, read, strict=True) if got != label]
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= MINIMUM[group], wrong


@pytest.mark.slow
@pytest.mark.parametrize(
    "pair",
    [
        # A lost or stolen card is frozen first (even when the customer also wants a new one); a card
        # that is damaged, expired or already frozen is replaced.
        ("card_reissue", "card_lost_or_stolen"),
        # A request to block a card is not read as one to unblock it, nor the other way round.
        ("card_unfreeze", "card_lost_or_stolen"),
    ],
    ids=["lost-or-replacement", "freeze-or-unfreeze"],
)
def test_neighbouring_card_requests_are_told_apart(nlu_pipeline: NLUPipeline, pair: tuple[str, str]) -> None:
    rows = [row for group in GROUPS.values() for row in group if row[1] in pair]
    assert len({label for _, label in rows}) == 2 and len(rows) >= 30
    read = _read(nlu_pipeline, [text for text, _ in rows])
    crossed = [
        (text, label, got)
        for (text, label), got in zip(rows, read, strict=True)
        if got != label and got in pair
    ]
    assert len(crossed) <= len(rows) // 20, crossed


def test_every_intent_the_model_can_read_has_a_dialogue_policy() -> None:
    policies = load_policies(PACK / "dialogue" / "policies.yaml")
    intents = {e.label for e in load_examples("pack")}
    assert "card_reissue" in intents
    assert intents == set(policies.intents)
