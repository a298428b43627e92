"""Showing what a conversation keeps hidden: a masked value (a card or phone number the customer
typed), the original of an image, the recording of a voice message. Each only to a person who may
open the conversation, for a stated reason, audited in the same step; when the audit entry cannot
be written, nothing is shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from helixdesk.auth.service import StaffView
from helixdesk.conversations.errors import AudioNotFoundError, ImageNotFoundError
from helixdesk.conversations.images import open_original
from helixdesk.conversations.models import Message
from helixdesk.conversations.originals import Original
from helixdesk.conversations.voice import open_recording
from helixdesk.core.errors import NotFoundError
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.common import Desk, record
from helixdesk.handoff.workspace import AgentWorkspace
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.models import PiiValue
from helixdesk.privacy.vault import MIN_REASON_CHARS, RevealedValue, RevealReasonRequiredError, reveal_value


class Disclosure:
    def __init__(self, *, desk: Desk, workspace: AgentWorkspace, keyring: Keyring | None = None) -> None:
        self._desk = desk
        self._workspace = workspace  # who may open which conversation
        self._keyring = keyring
        self._sessions = desk.sessions
        # Reasons are the agent's words: stored masked, like every message.
        self._privacy = desk.writer.privacy

    def revealable(self, user: StaffView, conversation_id: str) -> dict[int, list[dict[str, Any]]]:
        """Per message seq, the masked values a person could reveal (masked forms only)."""
        with reading(self._sessions) as s:
            self._workspace.check_open(s, user, conversation_id)
            rows = s.execute(
                select(Message.seq, PiiValue.message_id, PiiValue.span_index, PiiValue.type, PiiValue.masked)
                .join(Message, Message.id == PiiValue.message_id)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq, PiiValue.span_index)
            ).all()
        out: dict[int, list[dict[str, Any]]] = {}
        for seq, message_id, index, kind, masked in rows:
            out.setdefault(seq, []).append(
                {"message_id": message_id, "span_index": index, "type": kind, "masked": masked}
            )
        return out

    def reveal(
        self, user: StaffView, conversation_id: str, *, message_id: str, span_index: int, reason: str
    ) -> RevealedValue:
        """Show one masked value to a person who may open the conversation, for a stated reason.

        The reveal is audited (who, which value, why, from where) in the same step; if the audit
        entry cannot be written the value is not shown.
        """
        if self._keyring is None:
            raise NotFoundError("no values are kept on this server", code="pii_value_not_found")
        with reading(self._sessions) as s:
            self._workspace.check_open(s, user, conversation_id)
            owner = s.scalar(select(Message.conversation_id).where(Message.id == message_id))
        if owner != conversation_id:
            raise NotFoundError("that message is not in this conversation", code="pii_value_not_found")
        revealed = reveal_value(
            self._sessions,
            self._keyring,
            message_id=message_id,
            span_index=span_index,
            actor=user.id,
            reason=reason,
        )
        with transaction(self._sessions) as s:
            record(
                self._desk,
                s,
                user,
                "pii.revealed",
                conversation_id,
                # The reason is the agent's words: stored masked, like every message.
                reason=self._privacy.mask(revealed.reason).text,
                details={"message_id": message_id, "span_index": span_index, "type": revealed.type},
            )
        return revealed

    def open_image(self, user: StaffView, conversation_id: str, *, message_id: str, reason: str) -> Original:
        """The original of a customer's image, for a person who may open the conversation and says
        why (at least `MIN_REASON_CHARS` characters). Audited (`image.opened`: who, which message, why) before it is shown."""
        return self._open(
            user,
            conversation_id,
            message_id,
            reason,
            what="image",
            missing=ImageNotFoundError,
            opener=lambda: open_original(
                self._sessions, self._require_keyring(ImageNotFoundError), message_id
            ),
        )

    def open_audio(self, user: StaffView, conversation_id: str, *, message_id: str, reason: str) -> Original:
        """The recording of a customer's voice message, on the terms of `open_image` (audited as
        `audio.opened`)."""
        return self._open(
            user,
            conversation_id,
            message_id,
            reason,
            what="audio",
            missing=AudioNotFoundError,
            opener=lambda: open_recording(
                self._sessions, self._require_keyring(AudioNotFoundError), message_id
            ),
        )

    def _require_keyring(self, missing: type[NotFoundError]) -> Keyring:
        if self._keyring is None:
            raise missing("no originals are kept on this server")
        return self._keyring

    def _open(
        self,
        user: StaffView,
        conversation_id: str,
        message_id: str,
        reason: str,
        *,
        what: str,
        missing: type[NotFoundError],
        opener: Callable[[], Original],
    ) -> Original:
        """An original (`what`: image, audio) of a message of the conversation, for a stated reason,
        audited as `<what>.opened` before it is shown."""
        self._require_keyring(missing)
        with reading(self._sessions) as s:
            self._workspace.check_open(s, user, conversation_id)
            owner = s.scalar(select(Message.conversation_id).where(Message.id == message_id))
        if owner != conversation_id:
            raise missing("that message is not in this conversation")
        reason = " ".join(reason.split())
        if len(reason) < MIN_REASON_CHARS:
            raise RevealReasonRequiredError(
                f"state why the {what} is needed (a reason of at least {MIN_REASON_CHARS} characters)"
            )
        original = opener()
        with transaction(self._sessions) as s:
            record(
                self._desk,
                s,
                user,
                f"{what}.opened",
                conversation_id,
                reason=self._privacy.mask(reason).text,
                details={"message_id": message_id, "content_type": original.content_type},
            )
        return original
