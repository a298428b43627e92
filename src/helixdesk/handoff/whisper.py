"""A supervisor whispers to the agent handling a conversation: a note only staff see.

Stored as an `AgentNote(kind="whisper", to_agent_id=...)`, masked like every note, with a
`NoteWhispered` event in the same transaction. The console stream passes the event to the agent it
is for (and to supervisors watching that conversation), never to anyone else; the customer's
channels carry only messages and states, so a whisper never reaches them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio

from helixdesk.auth.service import StaffView
from helixdesk.bus import outbox
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.events import NoteWhispered
from helixdesk.db.session import transaction
from helixdesk.handoff.common import Desk, active_handoff, record
from helixdesk.handoff.errors import NotWithAPersonError, SupervisorOnlyError
from helixdesk.handoff.models import AgentNote, HandoffStatus

MAX_WHISPER = 2000


class Whispers:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def whisper(
        self, user: StaffView, conversation_id: str, text: str, *, now: datetime | None = None
    ) -> dict[str, Any]:
        if not user.is_supervisor:
            raise SupervisorOnlyError("only a supervisor may whisper to the agent")
        text = text.strip()
        if not text or len(text) > MAX_WHISPER:
            raise ValidationFailedError(f"a whisper has 1-{MAX_WHISPER} characters", code="invalid_note")
        note = await anyio.to_thread.run_sync(self._whisper, user, conversation_id, text, now or utcnow())
        self._desk.committed()
        return note

    def _whisper(self, user: StaffView, conversation_id: str, text: str, now: datetime) -> dict[str, Any]:
        desk = self._desk
        with transaction(desk.sessions) as s:
            handoff = active_handoff(s, conversation_id)
            if handoff is None or handoff.status != HandoffStatus.ACTIVE.value or handoff.agent_id is None:
                raise NotWithAPersonError(
                    "nobody is handling this conversation: there is no one to whisper to"
                )
            if handoff.agent_id == user.id:
                raise ValidationFailedError(
                    "you are handling this conversation yourself: add a note instead", code="invalid_target"
                )
            note = AgentNote(
                conversation_id=conversation_id,
                author_id=user.id,
                author_name=user.display_name,
                text=desk.writer.privacy.mask(text).text,
                kind="whisper",
                to_agent_id=handoff.agent_id,
                created_at=now,
            )
            s.add(note)
            s.flush()
            outbox.record(
                s,
                [
                    NoteWhispered(
                        conversation_id=conversation_id,
                        note_id=note.id,
                        to_agent_id=handoff.agent_id,
                        author_name=note.author_name,
                        text=note.text,
                    )
                ],
            )
            record(
                desk,
                s,
                user,
                "conversation.whispered",
                conversation_id,
                details={"note_id": note.id, "to_agent": handoff.agent_id},
            )
            return note_data(note)


def note_data(note: AgentNote) -> dict[str, Any]:
    """A note as the console shows it (whispers carry whom they were for)."""
    return {
        "id": note.id,
        "author": note.author_name,
        "text": note.text,
        "kind": note.kind,
        "to_agent_id": note.to_agent_id,
        "created_at": note.created_at.isoformat(),
    }
