"""Reading stored messages: a row as the `MessageData` clients see (REST, WebSocket, events).

Writing is `helixdesk.conversations.writer`'s alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helixdesk.conversations.models import Message, Sender
from helixdesk.core.events import Citation, ImageRead, MessageData, VoiceHeard


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as the handoff packet reads it: its place, who sent it, its masked text, its meta."""

    seq: int
    sender: str
    text: str
    meta: Mapping[str, Any]


_FIELDS = ("id", "conversation_id", "seq", "sender", "text", "client_message_id", "in_reply_to", "created_at")


def message_data(m: Message) -> MessageData:
    return row_data({name: getattr(m, name) for name in (*_FIELDS, "meta")})


def row_data(row: Mapping[str, Any]) -> MessageData:
    """A message row (its column values by name) as clients see it."""
    meta = row["meta"] if isinstance(row["meta"], dict) else {}
    bot = row["sender"] == Sender.BOT.value
    image = meta.get("image")
    voice = meta.get("voice")
    return MessageData(
        **{name: row[name] for name in _FIELDS},
        author=meta.get("author"),
        author_role=meta.get("author_role"),
        kind=meta.get("kind") if bot or meta.get("kind") in ("image", "voice") else None,
        citations=tuple(Citation.model_validate(c) for c in meta.get("citations", ())) if bot else (),
        image=(
            ImageRead(
                kind=image.get("kind", "unknown"), text=image.get("text", ""), fields=image.get("fields", {})
            )
            if isinstance(image, dict) and not bot
            else None
        ),
        voice=(
            VoiceHeard(
                duration_s=voice.get("duration_s", 0.0),
                confidence=voice.get("confidence", 0.0),
                language=voice.get("language", ""),
            )
            if isinstance(voice, dict) and not bot
            else None
        ),
    )
