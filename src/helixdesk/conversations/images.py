"""Image messages: a screenshot, a bill or an error screen the customer sends, with or without words.

`post_image` first looks for a message already stored under the same `client_message_id` (a retry
is answered from what was stored, without reading the image again). Then, on a worker thread of
its own (never on the event loop, one image at a time per process, so a burst of uploads does not
hold many decoded images in memory at once), it checks the image (format, bytes, pixels:
`helixdesk.ocr.reader.check_image`, which decodes it once), reads it with the OCR, masks the text
read and encrypts the original with the keyring's active key; then it hands the message to the
bot's turn
(`helixdesk.conversations.turns`): one transaction stores the message (its caption as its text, the
masked text read and the fields under `meta["image"]`), the encrypted original (`message_images`)
and its event; the fields become the turn's entities.

`open_original` decrypts the original; the agent workspace
(`helixdesk.handoff.disclosure.Disclosure.open_image`) gives it to a member of staff who may open
the conversation and states a reason, and audits it.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.errors import ImageNotFoundError
from helixdesk.conversations.image_turn import ImagePart
from helixdesk.conversations.models import MessageImage
from helixdesk.conversations.originals import Original, aad, original_column, sealed
from helixdesk.conversations.originals import open_original as _open_original
from helixdesk.conversations.schemas import MessagePostResult
from helixdesk.conversations.service import ConversationService
from helixdesk.conversations.turns import Turns
from helixdesk.core.ids import new_id
from helixdesk.core.turn import Attachment
from helixdesk.ocr.fields import entities, summary_lines
from helixdesk.ocr.reader import CheckedImage, OcrReader, Reading, check_image
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.masking import mask_text
from helixdesk.privacy.rotation import EncryptedColumn

MAX_TEXT_CHARS = 4000  # of the text read, kept on the message


def image_aad(image_id: str) -> str:
    return aad(MessageImage, image_id)


def image_column() -> EncryptedColumn:
    """The originals of image messages, for key rotation."""
    return original_column(MessageImage)


class ImageMessages:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        conversations: ConversationService,
        turns: Turns,
        reader: OcrReader,
        keyring: Keyring,
        max_bytes: int,
        max_pixels: int,
        default_currency: str = "CNY",
    ) -> None:
        self._sessions = sessions
        self._conversations = conversations
        self._turns = turns
        self._reader = reader
        self._keyring = keyring
        self._max_bytes = max_bytes
        self._max_pixels = max_pixels
        self._currency = default_currency
        # Decoding and reading an image take memory and a core: one image at a time per process
        # (the OCR engine reads one at a time anyway).
        self._limiter = anyio.CapacityLimiter(1)

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    @property
    def reader(self) -> OcrReader:
        return self._reader

    def check(self, data: bytes) -> CheckedImage:
        return check_image(data, max_bytes=self._max_bytes, max_pixels=self._max_pixels)

    async def post_image(
        self,
        conversation_id: str,
        data: bytes,
        *,
        caption: str = "",
        client_message_id: str | None = None,
        now: datetime | None = None,
        source: dict[str, Any] | None = None,
    ) -> MessagePostResult:
        """Store the customer's image message and answer it (unless a person has the conversation).
        `source`: where the image came from, kept with it (a channel's media id)."""
        if caption.strip():
            self._conversations.check_text(caption)
        else:
            caption = ""
        if client_message_id is not None:
            repeated = await self.repeated(conversation_id, client_message_id)
            if repeated is not None:
                return repeated
        part = await anyio.to_thread.run_sync(self._read, data, len(caption), limiter=self._limiter)
        if source:
            part = replace(part, meta={**part.meta, "source": source})
        return await self._turns.post(
            conversation_id, caption, client_message_id=client_message_id, now=now, image=part
        )

    async def repeated(self, conversation_id: str, client_message_id: str) -> MessagePostResult | None:
        """The result of a message stored before under this id, when nothing is left to do for it
        (`Turns.repeated`): a retry needs no fetching or reading of its image."""
        return await anyio.to_thread.run_sync(self._turns.repeated, conversation_id, client_message_id)

    def _read(self, data: bytes, caption_chars: int) -> ImagePart:
        checked = self.check(data)
        return self._part(checked, self._reader.read(checked), caption_chars)

    def _part(self, image: CheckedImage, read: Reading, caption_chars: int) -> ImagePart:
        image_id = new_id()
        masked = mask_text(read.text[:MAX_TEXT_CHARS]).text

        # The fields are read from the same text: masked the same way before anything keeps or
        # shows them (a "merchant" may be a person's name and phone number). Ids, amounts, dates
        # and error codes are left as they are by the masking.
        def masked_field(value: str | None) -> str | None:
            return None if value is None else mask_text(value).text

        read_fields = read.fields
        fields = replace(
            read_fields,
            transaction_id=masked_field(read_fields.transaction_id),
            merchant=masked_field(read_fields.merchant),
            card_tail=masked_field(read_fields.card_tail),
            error_code=masked_field(read_fields.error_code),
        )
        found = fields.found()
        pairs = tuple(summary_lines(fields))
        meta = {
            "id": image_id,
            "content_type": image.content_type,
            "width": image.width,
            "height": image.height,
            "size": len(image.data),
            "text": masked,
            "kind": fields.kind,
            "fields": found,
            "ocr_seconds": round(read.seconds, 3),
        }
        token = sealed(self._keyring, MessageImage, image_id, image.data)
        row = {
            "id": image_id,
            "content_type": image.content_type,
            "size": len(image.data),
            "width": image.width,
            "height": image.height,
            "sha256": hashlib.sha256(image.data).hexdigest(),
            "data": token,
        }
        return ImagePart(
            meta=meta,
            row=row,
            attachment=Attachment(kind=fields.kind, text=masked, read=pairs),
            entities=entities(fields, at=caption_chars, default_currency=self._currency),
            charge=fields.kind == "charge",
        )


def open_original(sessions: sessionmaker[Session], keyring: Keyring, message_id: str) -> Original:
    """The original image of a message, decrypted (the caller checks who asks, and audits)."""
    return _open_original(
        sessions, keyring, MessageImage, message_id, missing=ImageNotFoundError, what="image"
    )
