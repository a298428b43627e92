"""The conversation service: it owns every conversation write.

Order of work for a customer message:
1. `check_*`: the conversation exists and is open, the text is acceptable.
2. The message is stored with the next sequence number and committed *before* anything else,
   so an acknowledged message survives a crash. A repeated `client_message_id` returns the
   original message (and its replies) instead of storing a duplicate.
3. The bot works on it (unless a person has the conversation).
4. Replies are stored in a second transaction; events are published after each commit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.connector import BankConnector
from helixdesk.bus.protocol import EventBus
from helixdesk.conversations.models import Conversation, ConversationState, Customer, Message, Sender
from helixdesk.conversations.schemas import ConversationOut, MessagePostResult, Reply
from helixdesk.db.base import utcnow
from helixdesk.db.session import transaction
from helixdesk.dialogue.bot import Bot, BotResult
from helixdesk.dialogue.ports import CustomerContext
from helixdesk.dialogue.state import DialogueState, StateConflictError, load_state, save_state
from helixdesk.domain.turn import Turn
from helixdesk.errors import AppError, ConflictError, NotFoundError, ValidationFailedError
from helixdesk.events import (
    ConversationCreated,
    ConversationStateChanged,
    Event,
    MessageCitation,
    MessageData,
    MessageReceived,
    ReplySent,
)
from helixdesk.memory.service import IssueView, apply_issue_ops, open_issues

log = logging.getLogger(__name__)


class ConversationClosedError(ConflictError):
    code = "conversation_closed"


class MessageTooLongError(ValidationFailedError):
    code = "message_too_long"


class EmptyMessageError(ValidationFailedError):
    code = "empty_message"


class CustomerNotFoundError(NotFoundError):
    code = "customer_not_found"


class ConversationNotFoundError(NotFoundError):
    code = "conversation_not_found"


REDACTED_CODE = "••••••"
STATE_RETRIES = 5


@dataclass(frozen=True, slots=True)
class _Stored:
    message: MessageData
    replies: tuple[MessageData, ...]
    state: str
    language: str | None
    duplicate: bool
    reply_meta: tuple[dict[str, Any], ...] = ()
    handoff: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _TurnContext:
    customer: CustomerContext
    state: DialogueState
    language: str | None


def message_data(m: Message) -> MessageData:
    meta = m.meta if m.sender == Sender.BOT.value and isinstance(m.meta, dict) else {}
    return MessageData(
        id=m.id,
        conversation_id=m.conversation_id,
        seq=m.seq,
        sender=m.sender,
        text=m.text,
        client_message_id=m.client_message_id,
        in_reply_to=m.in_reply_to,
        created_at=m.created_at,
        kind=meta.get("kind"),
        citations=tuple(MessageCitation.model_validate(c) for c in meta.get("citations", ())),
    )


class ConversationService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        bus: EventBus,
        bot: Bot,
        bank: BankConnector,
        max_message_chars: int,
        abandon_issue_after_days: int = 30,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._bot = bot
        self._bank = bank
        self._max_chars = max_message_chars
        self._abandon_after = abandon_issue_after_days
        # Turns of one conversation run one at a time in this process; across processes the
        # dialogue state's version number catches a race and the losing turn runs again.
        self._turn_locks: dict[str, tuple[anyio.Lock, int]] = {}

    # ---- creating -------------------------------------------------------------------------------

    async def create_conversation(
        self, *, channel: str, customer_ref: str | None = None, language: str | None = None
    ) -> ConversationOut:
        if customer_ref is not None:
            bank_customer = await anyio.to_thread.run_sync(self._bank.get_customer, customer_ref)
            if bank_customer is None:
                raise CustomerNotFoundError(f"no customer with reference {customer_ref!r}")
            language = language or bank_customer.preferred_language
        out, event = await anyio.to_thread.run_sync(self._do_create, channel, customer_ref, language)
        await self._publish([event])
        return out

    def _do_create(
        self, channel: str, customer_ref: str | None, language: str | None
    ) -> tuple[ConversationOut, Event]:
        with transaction(self._sessions) as s:
            customer = self._customer(s, customer_ref, language)
            conv = Conversation(customer_id=customer.id, channel=channel, language=language)
            s.add(conv)
            s.flush()
            out = _conversation_out(conv, customer.bank_ref)
        return out, ConversationCreated(
            conversation_id=out.id, channel=channel, customer_id=customer.id, customer_ref=customer_ref
        )

    def _customer(self, s: Session, customer_ref: str | None, language: str | None) -> Customer:
        if customer_ref is None:
            customer = Customer(language=language)
            s.add(customer)
            s.flush()
            return customer
        customer_row = s.scalar(select(Customer).where(Customer.bank_ref == customer_ref))
        if customer_row is not None:
            return customer_row
        try:
            with s.begin_nested():
                customer = Customer(bank_ref=customer_ref, language=language)
                s.add(customer)
                s.flush()
        except IntegrityError:
            # Another request created this customer at the same moment.
            existing = s.scalar(select(Customer).where(Customer.bank_ref == customer_ref))
            if existing is None:
                raise
            return existing
        return customer

    # ---- reading --------------------------------------------------------------------------------

    async def get_conversation(self, conversation_id: str) -> ConversationOut:
        return await anyio.to_thread.run_sync(self._get, conversation_id)

    def _get(self, conversation_id: str) -> ConversationOut:
        with self._sessions() as s:
            row = s.execute(
                select(Conversation, Customer.bank_ref)
                .join(Customer, Conversation.customer_id == Customer.id)
                .where(Conversation.id == conversation_id)
            ).first()
            if row is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
            return _conversation_out(row[0], row[1])

    async def list_messages(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 200
    ) -> list[MessageData]:
        return await anyio.to_thread.run_sync(self._list, conversation_id, after_seq, limit)

    def _list(self, conversation_id: str, after_seq: int, limit: int) -> list[MessageData]:
        with self._sessions() as s:
            if s.get(Conversation, conversation_id) is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
            rows = s.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
                .order_by(Message.seq)
                .limit(limit)
            )
            return [message_data(m) for m in rows]

    # ---- the customer's message -----------------------------------------------------------------

    def check_text(self, text: str) -> str:
        if len(text) > self._max_chars:
            raise MessageTooLongError(
                f"the message has {len(text)} characters; the limit is {self._max_chars}"
            )
        if not text.strip():
            raise EmptyMessageError("the message is empty")
        return text

    async def post_customer_message(
        self,
        conversation_id: str,
        text: str,
        *,
        client_message_id: str | None = None,
        now: datetime | None = None,
    ) -> MessagePostResult:
        self.check_text(text)
        stored = await anyio.to_thread.run_sync(
            self._do_store_incoming, conversation_id, text, client_message_id
        )
        if stored.duplicate and stored.replies:
            return _result(stored, replies=stored.replies, meta=stored.reply_meta, duplicate=True)
        if not stored.duplicate:
            await self._publish([MessageReceived(conversation_id=conversation_id, message=stored.message)])
        if stored.state != ConversationState.BOT.value:
            return _result(stored, replies=(), meta=(), duplicate=stored.duplicate)
        turn = await anyio.to_thread.run_sync(self._understand, text, now)
        async with self._turn_lock(conversation_id):
            return await self._reply(stored, turn, now)

    @contextlib.asynccontextmanager
    async def _turn_lock(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._turn_locks.get(conversation_id, (anyio.Lock(), 0))
        self._turn_locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turn_locks[conversation_id]
            if users <= 1:
                del self._turn_locks[conversation_id]
            else:
                self._turn_locks[conversation_id] = (lock, users - 1)

    async def _reply(self, stored: _Stored, turn: Turn, now: datetime | None) -> MessagePostResult:
        conversation_id = stored.message.conversation_id
        for attempt in range(STATE_RETRIES):
            bot_result = await anyio.to_thread.run_sync(self._run_bot, stored, turn, now)
            try:
                replies, events, handoff = await anyio.to_thread.run_sync(
                    self._do_store_replies, stored, bot_result
                )
            except StateConflictError:
                # Another turn of this conversation saved its state first: think again on the new state.
                log.info("dialogue state of %s changed under us (attempt %d)", conversation_id, attempt + 1)
                continue
            await self._publish(events)
            meta = (
                tuple(_reply_meta(r) for r in bot_result.replies)
                if len(replies) == len(bot_result.replies)
                else ()
            )
            return _result(stored, replies=replies, meta=meta, duplicate=stored.duplicate, handoff=handoff)
        raise ConflictError(
            f"conversation {conversation_id} is busy; please send the message again", code="conversation_busy"
        )

    def _understand(self, text: str, now: datetime | None) -> Turn:
        return self._bot.understand(text, now=now)

    def _run_bot(self, stored: _Stored, turn: Turn, now: datetime | None) -> BotResult:
        context = self._turn_context(stored.message.conversation_id)
        return self._bot.turn(
            turn,
            conversation_id=stored.message.conversation_id,
            conversation_language=context.language,
            customer=context.customer,
            state=context.state,
            now=now or utcnow(),
        )

    def _turn_context(self, conversation_id: str) -> _TurnContext:
        """Who the customer is, their open issues from earlier contacts, and the dialogue state."""
        with transaction(self._sessions) as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
            customer = s.get(Customer, conv.customer_id)
            assert customer is not None
            state = load_state(s, conversation_id)
            issues: tuple[IssueView, ...] = ()
            if not state.issues_raised:
                issues = tuple(
                    open_issues(
                        s,
                        customer.id,
                        now=utcnow(),
                        abandon_after_days=self._abandon_after,
                        exclude_conversation=conversation_id,
                    )
                )
            ref = customer.bank_ref
            language = conv.language
            customer_id = customer.id
        profile = self._bank.get_customer(ref) if ref is not None else None
        return _TurnContext(
            customer=CustomerContext(
                customer_id=customer_id, customer_ref=ref, profile=profile, open_issues=issues
            ),
            state=state,
            language=language,
        )

    def _do_store_incoming(self, conversation_id: str, text: str, client_message_id: str | None) -> _Stored:
        try:
            with transaction(self._sessions) as s:
                conv = self._lock_open_conversation(s, conversation_id)
                if client_message_id is not None:
                    existing = self._existing(s, conversation_id, client_message_id)
                    if existing is not None:
                        return existing
                seq = self._next_seq(s, conversation_id)
                msg = Message(
                    conversation_id=conversation_id,
                    seq=seq,
                    sender=Sender.CUSTOMER.value,
                    text=text,
                    client_message_id=client_message_id,
                    meta={},
                )
                s.add(msg)
                s.flush()
                return _Stored(message_data(msg), (), conv.state, conv.language, duplicate=False)
        except IntegrityError:
            # A concurrent request stored the same client_message_id first; return that one.
            if client_message_id is None:
                raise
            with self._sessions() as s:
                existing = self._existing(s, conversation_id, client_message_id)
                if existing is None:
                    raise
                return existing

    def _lock_open_conversation(self, s: Session, conversation_id: str) -> Conversation:
        conv = s.scalar(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
        if conv is None:
            raise ConversationNotFoundError(f"no conversation {conversation_id}")
        if conv.state == ConversationState.CLOSED.value:
            raise ConversationClosedError(f"conversation {conversation_id} is closed")
        return conv

    def _existing(self, s: Session, conversation_id: str, client_message_id: str) -> _Stored | None:
        msg = s.scalar(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.client_message_id == client_message_id
            )
        )
        if msg is None:
            return None
        conv = s.get(Conversation, conversation_id)
        assert conv is not None
        replies = s.scalars(select(Message).where(Message.in_reply_to == msg.id).order_by(Message.seq)).all()
        return _Stored(
            message_data(msg),
            tuple(message_data(r) for r in replies),
            conv.state,
            conv.language,
            duplicate=True,
            reply_meta=tuple(dict(r.meta or {}) for r in replies),
        )

    def _next_seq(self, s: Session, conversation_id: str) -> int:
        seq = s.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_seq=Conversation.last_seq + 1, updated_at=utcnow())
            .returning(Conversation.last_seq)
        ).scalar_one()
        return int(seq)

    def _do_store_replies(
        self, stored: _Stored, result: BotResult
    ) -> tuple[tuple[MessageData, ...], list[Event], dict[str, Any] | None]:
        with transaction(self._sessions) as s:
            conv = self._lock_open_conversation(s, stored.message.conversation_id)
            # Another worker may have answered this message already (a retry raced the original).
            earlier = s.scalars(
                select(Message).where(Message.in_reply_to == stored.message.id).order_by(Message.seq)
            ).all()
            if earlier:
                return tuple(message_data(m) for m in earlier), [], None
            if conv.state != ConversationState.BOT.value:
                # An earlier turn handed the conversation to a person: the bot stays silent.
                return (), [], None
            save_state(s, conv.id, result.state)
            now = utcnow()
            apply_issue_ops(
                s, result.outcome.issue_ops, customer_id=conv.customer_id, conversation_id=conv.id, now=now
            )
            incoming = s.get(Message, stored.message.id)
            if incoming is not None:
                nlu = result.turn.to_dict()
                if result.outcome.redact_message:
                    # A one-time code is never kept: not in the transcript, not in the NLU record.
                    incoming.text = REDACTED_CODE
                    nlu = {k: v for k, v in nlu.items() if k not in ("text", "normalized", "entities")}
                incoming.meta = {
                    "nlu": nlu,
                    **({"redacted": "one_time_code"} if result.outcome.redact_message else {}),
                }
            if conv.language is None:
                conv.language = result.reply_language
            out: list[MessageData] = []
            events: list[Event] = []
            intent = result.turn.intent.name if result.turn.intent else None
            for reply in result.replies:
                msg = Message(
                    conversation_id=conv.id,
                    seq=self._next_seq(s, conv.id),
                    sender=Sender.BOT.value,
                    text=reply.text,
                    in_reply_to=stored.message.id,
                    meta=_reply_meta(reply),
                )
                s.add(msg)
                s.flush()
                data = message_data(msg)
                out.append(data)
                events.append(ReplySent(conversation_id=conv.id, message=data, intent=intent))
            handoff: dict[str, Any] | None = None
            if result.handoff is not None:
                handoff = {
                    "queue": result.handoff.queue,
                    "reason": result.handoff.reason,
                    "intent": result.handoff.intent,
                }
                old_state = conv.state
                conv.state = ConversationState.WAITING_FOR_AGENT.value
                events.append(
                    ConversationStateChanged(
                        conversation_id=conv.id,
                        old_state=old_state,
                        new_state=conv.state,
                        reason=result.handoff.reason,
                        queue=result.handoff.queue,
                    )
                )
        return tuple(out), events, handoff

    async def _publish(self, events: Sequence[Event]) -> None:
        for event in events:
            try:
                await self._bus.publish(event)
            except AppError:
                raise
            except Exception:
                # The write is committed; losing a live notification must not fail the request.
                # Clients resume from the database by sequence number.
                log.exception("could not publish %s for conversation %s", event.type, event.conversation_id)


def _conversation_out(conv: Conversation, customer_ref: str | None) -> ConversationOut:
    return ConversationOut(
        id=conv.id,
        channel=conv.channel,
        state=conv.state,
        language=conv.language,
        customer_ref=customer_ref,
        last_seq=conv.last_seq,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
    )


def _reply_meta(reply: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"kind": reply.kind}
    if reply.citations:
        meta["citations"] = [{"title": c.title, "source": c.source, "ref": c.ref} for c in reply.citations]
    return meta


def _result(
    stored: _Stored,
    *,
    replies: Sequence[MessageData],
    meta: Sequence[dict[str, Any]],
    duplicate: bool,
    handoff: dict[str, Any] | None = None,
) -> MessagePostResult:
    payload: list[dict[str, Any]] = []
    for i, r in enumerate(replies):
        m = meta[i] if i < len(meta) else {}
        payload.append(
            {"text": r.text, "kind": m.get("kind", "text"), "citations": m.get("citations", []), "message": r}
        )
    state = ConversationState.WAITING_FOR_AGENT.value if handoff is not None else stored.state
    return MessagePostResult(
        message=stored.message,
        replies=[Reply.model_validate(p) for p in payload],
        state=state,
        handoff=handoff,
        duplicate=duplicate,
    )
