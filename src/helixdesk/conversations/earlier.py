"""The customer's earlier conversations on every channel: one history on the customer's side.

`EarlierConversations.page(conversation_id, before=..., limit=...)` lists the conversations the
same bank customer started before this one, on any channel (WeChat, web, the app, phone, social
messages), newest first, each with its messages as stored: masked, an image message with the text
read from it and a voice message with its transcript, exactly as the conversation's own message
list shows them. Nothing is unmasked.

What is listed:
- only for an identified customer (a conversation with a bank customer number); a visitor's
  conversation has no earlier ones;
- only conversations started before this one in which something was said;
- only what is still held: not anonymised by retention (their text is gone and they no longer
  belong to the customer), not past the retention window (`retention_conversations_days`) though
  the retention job has not run yet, and never an erased customer's (erasure deletes them).

Pages are cut by an opaque cursor (`next_cursor`, given back as `before`): the start time and id of
the last conversation listed. A cursor that cannot be read is refused (`invalid_cursor`).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.errors import ConversationNotFoundError, InvalidCursorError
from helixdesk.conversations.models import Conversation, Customer, Message
from helixdesk.conversations.schemas import EarlierConversation, EarlierPage
from helixdesk.conversations.store import message_data
from helixdesk.core.clock import utcnow
from helixdesk.core.events import MessageData
from helixdesk.db.session import reading

PAGE_DEFAULT = 5  # conversations per page unless the caller asks for another number
PAGE_MAX = 20
MESSAGES_PER_CONVERSATION = 200  # the latest messages of each conversation listed
_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: the start time and id of the last conversation on it."""

    started_at: datetime
    conversation_id: str

    def encode(self) -> str:
        micros = (self.started_at - _EPOCH) // timedelta(microseconds=1)
        raw = f"{micros}.{self.conversation_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        found = _parse(text)
        if found is None:
            raise InvalidCursorError(
                "`before` is not a cursor this server gave out: pass `next_cursor` from the previous page"
            )
        return found


def _parse(text: str) -> Cursor | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    micros, _, conversation_id = raw.partition(".")
    if not micros.isdigit() or len(micros) > 17 or not _ID.match(conversation_id):
        return None
    try:
        return Cursor(_EPOCH + timedelta(microseconds=int(micros)), conversation_id)
    except OverflowError:
        return None


class EarlierConversations:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        retention_days: int,
        messages_per_conversation: int = MESSAGES_PER_CONVERSATION,
    ) -> None:
        self._sessions = sessions
        self._retention_days = retention_days
        self._messages = messages_per_conversation

    async def page(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        limit: int = PAGE_DEFAULT,
        now: datetime | None = None,
    ) -> EarlierPage:
        cursor = Cursor.decode(before) if before else None
        return await anyio.to_thread.run_sync(
            lambda: self._page(conversation_id, cursor, max(1, min(limit, PAGE_MAX)), now or utcnow())
        )

    def _page(self, conversation_id: str, cursor: Cursor | None, limit: int, now: datetime) -> EarlierPage:
        with reading(self._sessions) as s:
            row = s.execute(
                select(Conversation.customer_id, Conversation.created_at, Customer.bank_ref)
                .join(Customer, Customer.id == Conversation.customer_id)
                .where(Conversation.id == conversation_id)
            ).first()
            if row is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
            customer_id, started, ref = row
            if ref is None:  # a visitor: no history to show
                return EarlierPage(conversations=[], next_cursor=None)
            # Started before this one (ties broken by id, as the pages are).
            end = cursor or Cursor(started, conversation_id)
            conditions = [
                Conversation.customer_id == customer_id,
                Conversation.id != conversation_id,
                Conversation.last_seq > 0,
                Conversation.anonymised_at.is_(None),
                or_(
                    Conversation.created_at < end.started_at,
                    and_(Conversation.created_at == end.started_at, Conversation.id < end.conversation_id),
                ),
            ]
            if cursor is not None:  # never past the conversation itself, whatever the cursor says
                conditions.append(
                    or_(
                        Conversation.created_at < started,
                        and_(Conversation.created_at == started, Conversation.id < conversation_id),
                    )
                )
            if self._retention_days > 0:
                conditions.append(Conversation.updated_at >= now - timedelta(days=self._retention_days))
            found = list(
                s.scalars(
                    select(Conversation)
                    .where(*conditions)
                    .order_by(Conversation.created_at.desc(), Conversation.id.desc())
                    .limit(limit + 1)
                )
            )
            more = len(found) > limit
            shown = found[:limit]
            messages = self._messages_of(s, shown)
            conversations = [
                EarlierConversation(
                    id=c.id,
                    channel=c.channel,
                    state=c.state,
                    language=c.language,
                    started_at=c.created_at,
                    ended_at=c.closed_at,
                    last_activity_at=c.updated_at,
                    messages=messages.get(c.id, []),
                    messages_left_out=max(0, c.last_seq - self._messages),
                )
                for c in shown
            ]
        next_cursor = Cursor(shown[-1].created_at, shown[-1].id).encode() if more else None
        return EarlierPage(conversations=conversations, next_cursor=next_cursor)

    def _messages_of(self, s: Session, conversations: list[Conversation]) -> dict[str, list[MessageData]]:
        """The latest messages of each conversation, in order (one query for the page)."""
        if not conversations:
            return {}
        rows = s.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.conversation_id.in_([c.id for c in conversations]),
                Message.seq > Conversation.last_seq - self._messages,
            )
            .order_by(Message.conversation_id, Message.seq)
        )
        out: dict[str, list[MessageData]] = {}
        for m in rows:
            out.setdefault(m.conversation_id, []).append(message_data(m))
        return out
