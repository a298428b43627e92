"""Storing conversation messages masked: what the conversation writer calls when it writes.

- `mask(text)` masks a message before it is stored (customer messages and bot replies alike).
- `keep(s, message_id, masked)` puts the raw values of the masked spans in the vault, encrypted
  (not secrets; nothing at all without a keyring).
- `masked_nlu(turn, masked)` is the NLU record of a customer message re-pointed at the masked
  text: entity and risk offsets index the stored text, and entity values that were personal data
  hold their masked form (the conversation writer stores it in `messages.meta["nlu"]`).

The bot's NLU for the current turn still runs on the raw text in memory; nothing raw is stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from helixdesk.core.turn import Turn
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.masking import Masked, mask_text
from helixdesk.privacy.vault import store_values


class TranscriptPrivacy:
    """Masking (always) and the vault (with a keyring) for the conversation service."""

    def __init__(self, *, keyring: Keyring | None = None) -> None:
        self._keyring = keyring

    def mask(self, text: str, *, expect_code: bool = False) -> Masked:
        """`expect_code`: the bot waits for a one-time code, so a lone 4-8 digit run is a secret."""
        return mask_text(text, expect_code=expect_code)

    def keep(self, s: Session, message_id: str, masked: Masked) -> None:
        if self._keyring is not None and masked.changed:
            store_values(s, self._keyring, message_id=message_id, masked=masked)


def masked_nlu(turn: Turn, masked: Masked) -> dict[str, Any]:
    """`turn.to_dict()` with the text masked and every span re-pointed at the masked text."""
    nlu = turn.to_dict()
    if not masked.changed:
        return nlu
    nlu["text"] = masked.text
    if len(turn.normalized) == len(turn.text):
        nlu["normalized"] = _splice(turn.normalized, masked)
    else:
        nlu["normalized"] = masked.text.lower()
    for item, text_key in [(e, "text") for e in nlu["entities"]] + [(r, "evidence") for r in nlu["risk"]]:
        start, end = masked.map_range(item["start"], item["end"])
        if masked.overlaps(item["start"], item["end"]):
            item[text_key] = masked.text[start:end]
            if text_key == "text":
                item["value"] = item[text_key]
        item["start"], item["end"] = start, end
    return nlu


def _splice(same_length: str, masked: Masked) -> str:
    """Apply the masked spans to a string aligned with the original text (e.g. its normalised form)."""
    parts: list[str] = []
    pos = 0
    for span in masked.spans:
        parts.append(same_length[pos : span.start])
        parts.append(span.masked.lower())
        pos = span.end
    parts.append(same_length[pos:])
    return "".join(parts)
