"""Handing a conversation back to the bot, which greets the customer again and starts fresh."""

from __future__ import annotations

from datetime import datetime

import anyio

from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import ConversationState, Sender
from helixdesk.conversations.writer import NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import transaction
from helixdesk.dialogue.state import DialogueState, load_state, save_state
from helixdesk.handoff.common import Desk, end, own, record


class HandBack:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def hand_back(self, user: StaffView, conversation_id: str, *, now: datetime | None = None) -> None:
        await anyio.to_thread.run_sync(self._hand_back, user, conversation_id, now or utcnow())
        self._desk.committed()

    def _hand_back(self, user: StaffView, conversation_id: str, now: datetime) -> None:
        desk = self._desk
        with transaction(desk.sessions) as s:
            current = own(s, user, conversation_id)
            conv = desk.writer.lock(s, conversation_id)
            end(desk, s, current, conv, "handed_back", ConversationState.BOT, now)
            record(desk, s, user, "handoff.handed_back", conv.id, details={"queue": current.queue})
            state = load_state(s, conv.id)
            # The bot starts fresh: nothing half-done, no history that would hand over again at once.
            fresh = DialogueState(
                style=state.style, issues_raised=True, tips_given=state.tips_given, version=state.version
            )
            save_state(s, conv.id, fresh)
            text = desk.templates.render("handoff.handed_back", language=language_or_default(conv.language))
            desk.writer.append(s, conv, NewMessage(sender=Sender.BOT, text=text, meta={"kind": "text"}))
