"""Wrapping up: the person closes the conversation with a disposition and a resolution status.

`follow_up` and `unresolved` leave an open issue on the customer, which the bot raises first when
they come back.
"""

from __future__ import annotations

from datetime import datetime

import anyio

from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import ConversationState, Sender
from helixdesk.conversations.writer import NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import transaction
from helixdesk.handoff.common import Desk, end, own, record
from helixdesk.memory.service import IssueOp, apply_issue_ops

RESOLUTIONS = ("resolved", "unresolved", "follow_up")


class WrapUp:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def wrap_up(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        disposition: str,
        resolution: str,
        note: str = "",
        now: datetime | None = None,
    ) -> None:
        if resolution not in RESOLUTIONS:
            raise ValidationFailedError(
                f"resolution must be one of {', '.join(RESOLUTIONS)}", code="invalid_resolution"
            )
        dispositions = self._desk.labels.group("disposition")
        if disposition not in dispositions:
            raise ValidationFailedError(
                f"disposition must be one of {', '.join(dispositions)}", code="invalid_disposition"
            )
        await anyio.to_thread.run_sync(
            lambda: self._wrap_up(user, conversation_id, disposition, resolution, note, now or utcnow())
        )
        self._desk.committed()

    def _wrap_up(
        self,
        user: StaffView,
        conversation_id: str,
        disposition: str,
        resolution: str,
        note: str,
        now: datetime,
    ) -> None:
        desk = self._desk
        with transaction(desk.sessions) as s:
            current = own(s, user, conversation_id)
            conv = desk.writer.lock(s, conversation_id)
            current.disposition = disposition
            current.resolution = resolution
            # The agent's words: stored masked, like every message.
            current.wrap_note = desk.writer.privacy.mask(note.strip()[:4000]).text or None
            if resolution != "resolved":
                apply_issue_ops(
                    s,
                    [
                        IssueOp(
                            "open",
                            topic="agent_follow_up",
                            intent=current.intent or "human_agent",
                            facts={"disposition": disposition, "handoff_id": current.id},
                        )
                    ],
                    customer_id=conv.customer_id,
                    conversation_id=conv.id,
                    now=now,
                )
            text = desk.templates.render("handoff.wrapped_up", language=language_or_default(conv.language))
            desk.writer.append(s, conv, NewMessage(sender=Sender.SYSTEM, text=text, meta={"kind": "closed"}))
            end(desk, s, current, conv, "closed", ConversationState.CLOSED, now)
            record(
                desk,
                s,
                user,
                "handoff.wrapped_up",
                conv.id,
                details={"queue": current.queue, "disposition": disposition, "resolution": resolution},
            )
