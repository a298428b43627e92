"""The conversation service: starting conversations, who may open them, reading them, and the
customer's side of writing to them.

- `check_*` validates (who may do what; acceptable text);
- `post_customer_message` stores the customer's message and runs the bot's turn
  (`helixdesk.conversations.turns`);
- `request_person` is the customer's "talk to a person" button.
Every write goes through the conversation writer (`helixdesk.conversations.writer`), and its events
are stored in the same transaction (the outbox relay publishes them).
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

import anyio
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.auth.apikeys import ChannelCaller, new_conversation_token
from helixdesk.auth.errors import AuthRequiredError, ForbiddenError
from helixdesk.auth.service import token_hash
from helixdesk.bank.connector import BankConnector
from helixdesk.bus import outbox
from helixdesk.conversations.errors import (
    ChannelMismatchError,
    ConversationForbiddenError,
    ConversationNotFoundError,
    CustomerNotFoundError,
    EmptyMessageError,
    MessageTooLongError,
)
from helixdesk.conversations.models import Conversation, ConversationState, Customer, Message, Sender
from helixdesk.conversations.ports import Handovers, RelayPoke
from helixdesk.conversations.schemas import ConversationOut, MessagePostResult
from helixdesk.conversations.store import message_data
from helixdesk.conversations.turns import Turns
from helixdesk.conversations.writer import ConversationWriter, NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.events import ConversationCreated, MessageData
from helixdesk.core.ids import new_id
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import reading, transaction
from helixdesk.dialogue.context import CustomerContext
from helixdesk.dialogue.effects import HandOver
from helixdesk.dialogue.state import load_state
from helixdesk.identity import VerificationService
from helixdesk.nlg.templates import Templates

log = logging.getLogger(__name__)


class ConversationService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        writer: ConversationWriter,
        turns: Turns,
        bank: BankConnector,
        identity: VerificationService,
        handovers: Handovers,
        templates: Templates,
        max_message_chars: int,
        demo_customer_login: bool = False,
        relay: RelayPoke | None = None,
    ) -> None:
        self._demo_login = demo_customer_login
        self._sessions = sessions
        self._writer = writer
        self._turns = turns
        self._bank = bank
        self._identity = identity
        self._handovers = handovers
        self._templates = templates
        self._relay = relay
        self._max_chars = max_message_chars

    # ---- creating -------------------------------------------------------------------------------

    # ---- who may do what -------------------------------------------------------------------------

    def check_create(self, caller: ChannelCaller, *, channel: str, customer_ref: str | None) -> None:
        """A channel's key may start conversations on its channel, for customers it vouches for.

        Without a key only the public web chat may start an anonymous conversation (and, on a
        demo server, sign in as a demo customer).
        """
        key = caller.api_key
        if key is not None:
            if not key.allows("conversations"):
                raise ForbiddenError("this API key may not start conversations")
            if key.channel != channel:
                raise ChannelMismatchError(
                    f"this API key belongs to the {key.channel} channel, not {channel}"
                )
            return
        if channel != "web":
            raise AuthRequiredError(f"the {channel} channel must send its API key (X-Api-Key)")
        if customer_ref is not None and not self._demo_login:
            raise AuthRequiredError(
                "only a channel's back end (with its API key) may say who the customer is"
            )

    def check_access(self, conversation_id: str, caller: ChannelCaller) -> None:
        """The conversation's own token, or a key of the conversation's channel, opens it."""
        if caller.anonymous:
            raise AuthRequiredError("send the conversation's token (Authorization: Bearer ...) or an API key")
        with reading(self._sessions) as s:
            row = s.execute(
                select(Conversation.token_hash, Conversation.channel).where(
                    Conversation.id == conversation_id
                )
            ).first()
        if caller.token is not None:
            expected = row[0] if row is not None else None
            if expected is None or not hmac.compare_digest(expected, token_hash(caller.token)):
                raise ConversationForbiddenError("this token does not open that conversation")
            return
        key = caller.api_key
        assert key is not None
        if not key.allows("conversations"):
            raise ForbiddenError("this API key may not read conversations")
        if row is None:
            raise ConversationNotFoundError(f"no conversation {conversation_id}")
        if row[1] != key.channel:
            raise ConversationForbiddenError(f"that conversation is not on the {key.channel} channel")

    async def create_conversation(
        self, *, channel: str, customer_ref: str | None = None, language: str | None = None
    ) -> ConversationOut:
        if customer_ref is not None:
            bank_customer = await anyio.to_thread.run_sync(self._bank.get_customer, customer_ref)
            if bank_customer is None:
                raise CustomerNotFoundError(f"no customer with reference {customer_ref!r}")
            language = language or bank_customer.preferred_language
        out = await anyio.to_thread.run_sync(self._do_create, channel, customer_ref, language)
        self._poke()
        return out

    def _do_create(self, channel: str, customer_ref: str | None, language: str | None) -> ConversationOut:
        token, hashed = new_conversation_token()
        now = utcnow()
        with transaction(self._sessions) as s:
            if customer_ref is None:
                # An anonymous visitor: a customer of their own, in plain inserts (the common case).
                customer_id = new_id()
                s.connection().execute(
                    _NEW_CUSTOMER, {"id": customer_id, "language": language, "created_at": now}
                )
            else:
                customer_id = self._customer(s, customer_ref, language).id
            conv = ConversationOut(
                id=new_id(),
                channel=channel,
                state=ConversationState.BOT.value,
                language=language,
                customer_ref=customer_ref,
                last_seq=0,
                created_at=now,
                updated_at=now,
            )
            s.connection().execute(
                _NEW_CONVERSATION,
                {
                    "id": conv.id,
                    "customer_id": customer_id,
                    "channel": channel,
                    "state": conv.state,
                    "language": language,
                    "last_seq": 0,
                    "token_hash": hashed,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            outbox.record(
                s,
                [
                    ConversationCreated(
                        conversation_id=conv.id,
                        channel=channel,
                        customer_id=customer_id,
                        customer_ref=customer_ref,
                    )
                ],
            )
        return conv.model_copy(update={"token": token})

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
        with reading(self._sessions) as s:
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
        with reading(self._sessions) as s:
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
        if all(ch.isspace() or ch == "\ufeff" for ch in text):
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
        """Store the customer's message and answer it (unless a person has the conversation)."""
        self.check_text(text)
        return await self._turns.post(conversation_id, text, client_message_id=client_message_id, now=now)

    # ---- "talk to a person" ---------------------------------------------------------------------

    async def request_person(self, conversation_id: str, *, now: datetime | None = None) -> str:
        """The customer pressed "talk to a person": queue the conversation for the general queue with
        everything said so far (no-op while waiting for or talking to a person); returns the state."""
        at = now or utcnow()
        state = await anyio.to_thread.run_sync(self._do_request_person, conversation_id, at)
        self._poke()
        return state

    def _do_request_person(self, conversation_id: str, now: datetime) -> str:
        with reading(self._sessions) as s:
            ref = s.scalar(
                select(Customer.bank_ref)
                .join(Conversation, Conversation.customer_id == Customer.id)
                .where(Conversation.id == conversation_id)
            )
        profile = self._bank.get_customer(ref) if ref else None
        verified = (
            ref is not None
            and self._identity.status(conversation_id=conversation_id, customer_ref=ref, now=now).verified
        )
        with transaction(self._sessions) as s:
            conv = self._writer.lock(s, conversation_id)
            if conv.state != ConversationState.BOT.value:
                return conv.state
            last = load_state(s, conv.id).last
            text = self._templates.render(
                "handoff.now", language=language_or_default(conv.language), queue="general"
            )
            self._writer.append(s, conv, NewMessage(sender=Sender.BOT, text=text, meta={"kind": "handoff"}))
            self._handovers.queue(
                s,
                conv,
                HandOver(
                    queue="general",
                    reason="customer_request",
                    intent=last.intent if last is not None else None,
                    trigger="customer_request",
                ),
                customer=CustomerContext(customer_id=conv.customer_id, customer_ref=ref, profile=profile),
                verified=verified,
                now=now,
            )
            return conv.state

    def _poke(self) -> None:
        if self._relay is not None:
            self._relay.poke()


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


_NEW_CUSTOMER = insert(Customer)
_NEW_CONVERSATION = insert(Conversation)
