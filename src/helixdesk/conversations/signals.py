"""What a conversation tells about its customer beyond the bank's data: who the customer is at the
bank (`bank_ref_of`) and the signals of their own messages that the customer profile reads
(`conversation_signals`: the intents asked about, how long they write)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.conversations.errors import ConversationNotFoundError
from helixdesk.conversations.models import Conversation, Customer, Message, Sender
from helixdesk.core.errors import NotFoundError
from helixdesk.lifecycle.profile import ConversationSignals

# The customer's own messages read for the signals: the latest ones, within this many days.
SIGNAL_MESSAGES = 50
SIGNAL_DAYS = 180


class CustomerAnonymousError(NotFoundError):
    """The conversation's customer is not linked to a customer of the bank."""

    code = "customer_anonymous"


def bank_ref_of(s: Session, conversation_id: str) -> tuple[str, str]:
    """The conversation's customer id and bank ref; `customer_anonymous` without a bank ref."""
    conv = s.get(Conversation, conversation_id)
    if conv is None:
        raise ConversationNotFoundError(f"no conversation {conversation_id}")
    customer = s.get(Customer, conv.customer_id)
    if customer is None or customer.bank_ref is None:
        raise CustomerAnonymousError(
            "the conversation's customer is not identified as a customer of the bank"
        )
    return customer.id, customer.bank_ref


def conversation_signals(s: Session, customer_id: str, *, now: datetime) -> ConversationSignals:
    """The intents and lengths of the customer's latest own messages, across their conversations."""
    rows = s.execute(
        select(Message.text, Message.meta)
        .join(Conversation, Message.conversation_id == Conversation.id)
        .where(
            Conversation.customer_id == customer_id,
            Message.sender == Sender.CUSTOMER.value,
            Message.created_at >= now - timedelta(days=SIGNAL_DAYS),
        )
        .order_by(Message.created_at.desc())
        .limit(SIGNAL_MESSAGES)
    ).all()
    intents: list[str] = []
    lengths: list[int] = []
    for text, meta in rows:
        lengths.append(len(text or ""))
        intent = ((meta or {}).get("nlu") or {}).get("intent") or {}
        name = intent.get("name") if isinstance(intent, dict) else None
        if isinstance(name, str) and name not in intents:
            intents.append(name)
    return ConversationSignals(
        intents=tuple(intents),
        messages=len(lengths),
        average_length=sum(lengths) / len(lengths) if lengths else None,
    )
