"""Reading a customer's short answers: yes/no/cancel/agent words, choices and slot values.

Words come from the pack (`words:` in dialogue/policies.yaml) and are matched on the normalised
text (lower case, half width, Simplified). The longest matching word wins, so "不是" (no) beats
"是" (yes) and "还是不认识" reads as "no".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from helixdesk.core.turn import Turn
from helixdesk.dialogue.policy import SlotPolicy, Words
from helixdesk.nlu.text import normalise, to_simplified

_ASCII_WORD = re.compile(r"^[a-z0-9' ]+$")
_ORDINALS = {
    "第一": 0, "第1": 0, "first": 0, "1st": 0, "第二": 1, "第2": 1, "second": 1, "2nd": 1,
    "第三": 2, "第3": 2, "third": 2, "3rd": 2, "第四": 3, "第4": 3, "fourth": 3, "4th": 3,
}  # fmt: skip
_DIGITS4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_POSITION = re.compile(r"(?:\bnumber|\bno\.|\boption|#|选)\s*(\d{1,2})(?!\d)")


def _matches(word: str, text: str) -> bool:
    if _ASCII_WORD.match(word):
        return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None
    return word in text


def answer_label(
    turn: Turn, words: Words, allowed: Iterable[str], intent_labels: Mapping[str, str] | None = None
) -> str | None:
    """The answer label (yes, no, agent, ...) this message gives, among `allowed`, or None."""
    text = turn.normalized or normalise(turn.text)
    text = to_simplified(text)
    allowed = list(allowed)
    best: tuple[int, str] | None = None
    for label in allowed:
        for word in words.labels.get(label, ()):
            w = to_simplified(word.lower())
            if _matches(w, text) and (best is None or len(w) > best[0]):
                best = (len(w), label)
    if best is not None:
        return best[1]
    if intent_labels and turn.intent is not None:
        by_intent = intent_labels.get(turn.intent.name)
        if by_intent in allowed:
            return by_intent
    return None


def has_cue(turn: Turn, cues: Sequence[str]) -> bool:
    text = to_simplified(turn.normalized or normalise(turn.text))
    return any(_matches(to_simplified(c.lower()), text) for c in cues)


def slot_values(turn: Turn, slots: Mapping[str, SlotPolicy]) -> dict[str, Any]:
    """Values for the policy's slots found among this message's entities (first entity per slot)."""
    found: dict[str, Any] = {}
    text = to_simplified(turn.normalized or normalise(turn.text))
    for name, slot in slots.items():
        for entity in turn.entities:
            if entity.type not in slot.entities:
                continue
            value = _slot_value(entity.value, slot)
            if value is not None:
                found[name] = value
                break
        else:
            for value, cues in slot.words.items():
                if any(_matches(to_simplified(c.lower()), text) for c in cues):
                    found[name] = value
                    break
    return found


def _slot_value(value: Any, slot: SlotPolicy) -> Any:
    """The entity's value as the slot takes it, or None when the slot does not take it."""
    if isinstance(value, Mapping):
        if any(str(value.get(k, "")).upper() in {v.upper() for v in vs} for k, vs in slot.unless.items()):
            return None
        if any(str(value.get(k, "")).upper() not in {v.upper() for v in vs} for k, vs in slot.when.items()):
            return None
        if slot.field is not None:
            value = value.get(slot.field)
    elif slot.unless or slot.when:
        return None  # a condition on a record's field: a plain value cannot meet it
    if value is None or (isinstance(value, str) and value.upper() in {v.upper() for v in slot.exclude}):
        return None
    return value


def pick_choice(turn: Turn, choices: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Which of the offered choices the customer named: by tail number, ordinal, number or label words."""
    if not choices:
        return None
    text = to_simplified(turn.normalized or normalise(turn.text))
    for entity in turn.entities:
        if entity.type == "card_tail":
            for choice in choices:
                if choice.get("tail") == str(entity.value):
                    return choice
    for digits in _DIGITS4.findall(text):
        for choice in choices:
            if choice.get("tail") == digits:
                return choice
    for word, index in _ORDINALS.items():
        if word in text and index < len(choices):
            return choices[index]
    stripped = text.strip(" .。!！")
    if stripped.isdigit() and 1 <= int(stripped) <= len(choices):
        return choices[int(stripped) - 1]
    # "number 2, please", "option 2", "no. 2", "选2"
    position = _POSITION.search(text)
    if position is not None:
        n = int(position.group(1))
        if 1 <= n <= len(choices):
            return choices[n - 1]
    hits = [c for c in choices if any(to_simplified(k.lower()) in text for k in c.get("keywords", ()))]
    if len(hits) == 1:
        return hits[0]
    return None
