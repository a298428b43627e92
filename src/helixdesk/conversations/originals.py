"""The originals of customers' image and voice messages: kept only encrypted, opened one at a time.

An original (the image file, the recording) is stored base64-encoded and encrypted with the
keyring's active key (AES-256-GCM), bound to its table and row (`aad`), in `message_images` or
`message_audio` (`OriginalTable`). `sealed` encrypts one for storing; `open_original` decrypts the
one of a message (the caller checks who asks and audits: `helixdesk.handoff.disclosure`);
`original_column` names the column for key rotation (`helixdesk keys rotate`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.models import MessageAudio, MessageImage
from helixdesk.core.errors import NotFoundError
from helixdesk.db.session import reading
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.rotation import EncryptedColumn

OriginalTable = type[MessageImage] | type[MessageAudio]


@dataclass(frozen=True, slots=True)
class Enclosure:
    """An original sent as (or with) a customer's message, ready to store with it: what the message
    keeps under `meta[kind]` ("image", "voice"), and the encrypted row of `table` (without the
    message's and conversation's ids, which the turn adds)."""

    kind: str
    meta: dict[str, Any]
    table: OriginalTable
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Original:
    message_id: str
    conversation_id: str
    content_type: str
    data: bytes


def aad(table: OriginalTable, row_id: str) -> str:
    """What an original's ciphertext is bound to: its table and row."""
    return f"{table.__tablename__}.data:{row_id}"


def sealed(keyring: Keyring, table: OriginalTable, row_id: str, data: bytes) -> str:
    """An original encrypted for storing in `table`'s row `row_id`."""
    return keyring.encrypt(base64.b64encode(data).decode(), aad=aad(table, row_id))


def original_column(table: OriginalTable) -> EncryptedColumn:
    """A table of originals, for key rotation."""
    return EncryptedColumn(
        f"{table.__tablename__}.data",
        table.__table__,  # type: ignore[arg-type]
        "id",
        "data",
        lambda row: aad(table, row.id),
    )


def open_original(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    table: OriginalTable,
    message_id: str,
    *,
    missing: type[NotFoundError],
    what: str,
) -> Original:
    """The original of a message, decrypted; `missing` (naming `what`) when it has none."""
    with reading(sessions) as s:
        row: Any = s.scalar(select(table).where(table.message_id == message_id))
        if row is None:
            raise missing(f"message {message_id} has no {what}")
        plain = keyring.decrypt(row.data, aad=aad(table, row.id))
        return Original(
            message_id=row.message_id,
            conversation_id=row.conversation_id,
            content_type=row.content_type,
            data=base64.b64decode(plain),
        )
