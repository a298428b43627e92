"""Storage of the WeChat channel: openids, their conversation, messages the bot does not answer
(pictures, voice, events) and what was delivered. Conversation writes go through the writer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.channels.wechat.models import WeChatConversation, WeChatDelivery, WeChatUser
from helixdesk.conversations.models import Conversation, ConversationState, Message, Sender
from helixdesk.conversations.writer import ConversationWriter, NewMessage
from helixdesk.db.session import reading, transaction


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    account: str
    openid: str
    conversation_id: str | None
    conversation_open: bool
    customer_ref: str | None
    bind_step: str | None
    bind_ref: str | None
    bind_language: str | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message for the customer: its stored id (None: said but not stored) and text."""

    message_id: str | None
    text: str


class WeChatStore:
    def __init__(self, *, sessions: sessionmaker[Session], writer: ConversationWriter) -> None:
        self._sessions = sessions
        self._writer = writer

    # ---- openids --------------------------------------------------------------------------------

    def user(self, account: str, openid: str) -> UserView:
        """The openid's row (created on first contact) and whether its conversation is open."""
        with reading(self._sessions) as s:
            row = self._read(s, account, openid)
        if row is not None:
            return row
        try:
            with transaction(self._sessions) as s:
                s.add(WeChatUser(account=account, openid=openid))
        except IntegrityError:
            pass  # created by a concurrent request
        with reading(self._sessions) as s:
            made = self._read(s, account, openid)
        assert made is not None
        return made

    def _read(self, s: Session, account: str, openid: str) -> UserView | None:
        row = s.execute(
            select(WeChatUser, Conversation.state)
            .outerjoin(Conversation, Conversation.id == WeChatUser.conversation_id)
            .where(WeChatUser.account == account, WeChatUser.openid == openid)
        ).first()
        if row is None:
            return None
        u, state = row
        return UserView(
            id=u.id,
            account=u.account,
            openid=u.openid,
            conversation_id=u.conversation_id,
            conversation_open=state is not None and state != ConversationState.CLOSED.value,
            customer_ref=u.customer_ref,
            bind_step=u.bind_step,
            bind_ref=u.bind_ref,
            bind_language=u.bind_language,
        )

    def set_conversation(self, user_id: int, old: str | None, new: str) -> bool:
        """Point the openid at a new conversation unless another request did first; the new
        conversation is the openid's for good (`wechat_conversations`)."""
        with transaction(self._sessions) as s:
            done = s.execute(
                update(WeChatUser)
                .where(
                    WeChatUser.id == user_id,
                    WeChatUser.conversation_id == old
                    if old is not None
                    else WeChatUser.conversation_id.is_(None),
                )
                .values(conversation_id=new)
            )
            if not getattr(done, "rowcount", 0):
                return False
            user = s.get_one(WeChatUser, user_id)
            s.add(WeChatConversation(conversation_id=new, account=user.account, openid=user.openid))
            return True

    def openid_of(self, s: Session, conversation_id: str) -> tuple[str, str] | None:
        """The account and openid a WeChat conversation belongs to (None: not a WeChat one)."""
        row = s.execute(
            select(WeChatConversation.account, WeChatConversation.openid).where(
                WeChatConversation.conversation_id == conversation_id
            )
        ).first()
        return None if row is None else (row.account, row.openid)

    def set_bind(
        self, user_id: int, *, step: str | None, ref: str | None, language: str | None = None
    ) -> None:
        values: dict[str, Any] = {"bind_step": step, "bind_ref": ref}
        if language is not None:
            values["bind_language"] = language
        with transaction(self._sessions) as s:
            s.execute(update(WeChatUser).where(WeChatUser.id == user_id).values(**values))

    def conversations_of(self, customer_ref: str) -> list[str]:
        """The WeChat conversations of a bound customer, newest first."""
        with reading(self._sessions) as s:
            return list(
                s.scalars(
                    select(WeChatUser.conversation_id).where(
                        WeChatUser.customer_ref == customer_ref, WeChatUser.conversation_id.is_not(None)
                    )
                )
            )

    # ---- messages the bot does not answer -------------------------------------------------------

    def store_with_ack(
        self,
        conversation_id: str,
        *,
        sender: Sender,
        text: str,
        meta: dict[str, Any],
        client_message_id: str,
        ack: str | None,
        expect_code: bool = False,
        always_ack: bool = False,
    ) -> tuple[list[Outgoing], bool]:
        """Store a picture, voice message or event once (its WeChat id) and, while the bot has the
        conversation, the bot's acknowledgement. Returns what to say, and whether it was a repeat."""
        with transaction(self._sessions) as s:
            conv = self._writer.lock(s, conversation_id)
            first = s.scalar(
                select(Message.id).where(
                    Message.conversation_id == conversation_id, Message.client_message_id == client_message_id
                )
            )
            if first is not None:
                said = s.execute(
                    select(Message.id, Message.text).where(
                        Message.conversation_id == conversation_id, Message.in_reply_to == first
                    )
                ).all()
                return [Outgoing(m_id, m_text) for m_id, m_text in said], True
            stored = self._writer.append(
                s,
                conv,
                NewMessage(
                    sender=sender,
                    text=text,
                    meta=meta,
                    client_message_id=client_message_id,
                    expect_code=expect_code,
                ),
            )
            if ack is None or (conv.state != ConversationState.BOT.value and not always_ack):
                return [], False
            reply = self._writer.append(
                s,
                conv,
                NewMessage(sender=Sender.BOT, text=ack, meta={"kind": "text"}, in_reply_to=stored.message.id),
            )
            return [Outgoing(reply.message.id, reply.message.text)], False

    def seen(self, conversation_id: str, client_message_id: str) -> list[Outgoing] | None:
        """What was said to a message already stored (a WeChat retry), or None when it is new."""
        with reading(self._sessions) as s:
            first = s.scalar(
                select(Message.id).where(
                    Message.conversation_id == conversation_id, Message.client_message_id == client_message_id
                )
            )
            if first is None:
                return None
            said = s.execute(
                select(Message.id, Message.text)
                .where(Message.conversation_id == conversation_id, Message.in_reply_to == first)
                .order_by(Message.seq)
            ).all()
            return [Outgoing(m_id, m_text) for m_id, m_text in said]

    # ---- deliveries -----------------------------------------------------------------------------

    def take(self, message_id: str, conversation_id: str, via: str) -> str | None:
        """Take a message for delivery: None when taken now, else how it was delivered before."""
        try:
            with transaction(self._sessions) as s:
                s.add(WeChatDelivery(message_id=message_id, conversation_id=conversation_id, via=via))
        except IntegrityError:
            with reading(self._sessions) as s:
                return (
                    s.scalar(select(WeChatDelivery.via).where(WeChatDelivery.message_id == message_id)) or "?"
                )
        return None

    def release(self, message_id: str) -> None:
        """A delivery failed: the message may be taken again."""
        with transaction(self._sessions) as s:
            s.execute(delete(WeChatDelivery).where(WeChatDelivery.message_id == message_id))
