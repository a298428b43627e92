"""Small helpers every writer of a conversation shares (the customer side and the agents' side).

They run inside the caller's transaction and never commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from helixdesk.conversations.errors import ConversationClosedError, ConversationNotFoundError
from helixdesk.conversations.models import Conversation, ConversationState, Message, Sender
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Citation, MessageData


def message_data(m: Message) -> MessageData:
    meta = m.meta if isinstance(m.meta, dict) else {}
    bot = m.sender == Sender.BOT.value
    return MessageData(
        id=m.id,
        conversation_id=m.conversation_id,
        seq=m.seq,
        sender=m.sender,
        text=m.text,
        client_message_id=m.client_message_id,
        in_reply_to=m.in_reply_to,
        created_at=m.created_at,
        author=meta.get("author"),
        author_role=meta.get("author_role"),
        kind=meta.get("kind") if bot else None,
        citations=tuple(Citation.model_validate(c) for c in meta.get("citations", ())) if bot else (),
    )


def next_seq(s: Session, conversation_id: str) -> int:
    seq = s.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1, updated_at=utcnow())
        .returning(Conversation.last_seq)
    ).scalar_one()
    return int(seq)


def lock_open_conversation(s: Session, conversation_id: str) -> Conversation:
    conv = s.scalar(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
    if conv is None:
        raise ConversationNotFoundError(f"no conversation {conversation_id}")
    if conv.state == ConversationState.CLOSED.value:
        raise ConversationClosedError(f"conversation {conversation_id} is closed")
    return conv


def add_message(
    s: Session,
    conversation_id: str,
    *,
    sender: str,
    text: str,
    meta: dict[str, Any] | None = None,
    in_reply_to: str | None = None,
) -> MessageData:
    """Store one message with the conversation's next sequence number."""
    msg = Message(
        conversation_id=conversation_id,
        seq=next_seq(s, conversation_id),
        sender=sender,
        text=text,
        in_reply_to=in_reply_to,
        meta=meta or {},
    )
    s.add(msg)
    s.flush()
    return message_data(msg)
