"""Storage of the social channel: authors and their conversation, and what was delivered.
Conversation writes go through the conversation service, not here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.channels.social.models import SocialAuthor, SocialDelivery
from helixdesk.conversations.models import Conversation, ConversationState, Message
from helixdesk.db.session import reading, transaction


@dataclass(frozen=True, slots=True)
class AuthorView:
    id: int
    conversation_id: str | None
    conversation_open: bool


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a conversation's messages go: its platform and author (as last seen)."""

    platform: str
    author_id: str
    author_name: str | None
    reply_to: str | None


class SocialStore:
    def __init__(self, *, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # ---- authors --------------------------------------------------------------------------------

    def author(self, platform: str, author_id: str, name: str | None, reply_to: str | None) -> AuthorView:
        """The author's row (created on first contact, its name and thread kept up to date) and
        whether their conversation is open."""
        view = self._read(platform, author_id)
        if view is None:
            try:
                with transaction(self._sessions) as s:
                    s.add(
                        SocialAuthor(
                            platform=platform, author_id=author_id, author_name=name, reply_to=reply_to
                        )
                    )
            except IntegrityError:
                pass  # created by a concurrent request
            view = self._read(platform, author_id)
            assert view is not None
            return view
        changes = {k: v for k, v in (("author_name", name), ("reply_to", reply_to)) if v is not None}
        if changes:
            with transaction(self._sessions) as s:
                s.execute(update(SocialAuthor).where(SocialAuthor.id == view.id).values(**changes))
        return view

    def _read(self, platform: str, author_id: str) -> AuthorView | None:
        with reading(self._sessions) as s:
            row = s.execute(
                select(SocialAuthor.id, SocialAuthor.conversation_id, Conversation.state)
                .outerjoin(Conversation, Conversation.id == SocialAuthor.conversation_id)
                .where(SocialAuthor.platform == platform, SocialAuthor.author_id == author_id)
            ).first()
        if row is None:
            return None
        return AuthorView(
            id=row.id,
            conversation_id=row.conversation_id,
            conversation_open=row.state is not None and row.state != ConversationState.CLOSED.value,
        )

    def set_conversation(self, author_row: int, old: str | None, new: str) -> bool:
        """Point the author at a new conversation unless another request did first."""
        with transaction(self._sessions) as s:
            done = s.execute(
                update(SocialAuthor)
                .where(
                    SocialAuthor.id == author_row,
                    SocialAuthor.conversation_id == old
                    if old is not None
                    else SocialAuthor.conversation_id.is_(None),
                )
                .values(conversation_id=new)
            )
            return bool(getattr(done, "rowcount", 0))

    def has_message(self, conversation_id: str, client_message_id: str) -> bool:
        with reading(self._sessions) as s:
            return (
                s.scalar(
                    select(Message.id).where(
                        Message.conversation_id == conversation_id,
                        Message.client_message_id == client_message_id,
                    )
                )
                is not None
            )

    def recipients(self, s: Session, conversation_ids: Iterable[str]) -> dict[str, Recipient]:
        """The platform and author of each of these conversations that is a social one."""
        ids = sorted(set(conversation_ids))
        if not ids:
            return {}
        rows = s.execute(
            select(
                SocialAuthor.conversation_id,
                SocialAuthor.platform,
                SocialAuthor.author_id,
                SocialAuthor.author_name,
                SocialAuthor.reply_to,
            ).where(SocialAuthor.conversation_id.in_(ids))
        ).all()
        return {
            r.conversation_id: Recipient(r.platform, r.author_id, r.author_name, r.reply_to) for r in rows
        }

    # ---- deliveries -----------------------------------------------------------------------------

    def take(self, message_id: str, conversation_id: str) -> bool:
        """Take a message for delivery: True when taken now, False when it was taken before."""
        try:
            with transaction(self._sessions) as s:
                s.add(SocialDelivery(message_id=message_id, conversation_id=conversation_id))
        except IntegrityError:
            return False
        return True

    def release(self, message_id: str) -> None:
        """A delivery failed and may be tried again."""
        with transaction(self._sessions) as s:
            s.execute(delete(SocialDelivery).where(SocialDelivery.message_id == message_id))
