"""What a conversation tells about its customer beyond the bank's data: who the customer is at the
bank (`bank_ref_of`), the signals of their own messages that the customer profile reads
(`conversation_signals`: the intents asked about, how long they write), and whether a complaint or
a fraud report is under way (`complaint_and_fraud`), which the suitability gate reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.conversations.errors import ConversationNotFoundError
from helixdesk.conversations.models import Conversation, ConversationState, Customer, Message, Sender
from helixdesk.core.errors import NotFoundError
from helixdesk.lifecycle.profile import ConversationSignals
from helixdesk.lifecycle.suitability import COMPLAINT_INTENTS, FRAUD_INTENTS
from helixdesk.memory.service import open_issues

# The customer's own messages read for the signals: the latest ones, within this many days.
SIGNAL_MESSAGES = 50
SIGNAL_DAYS = 180
# The intents that hold every offer back while they are under way (the gate's `blocked`).
GATED_INTENTS = COMPLAINT_INTENTS | FRAUD_INTENTS


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


def intent_of(meta: dict[str, Any] | None) -> str | None:
    """The intent a message was understood as (its NLU record in `meta`), if any."""
    intent = ((meta or {}).get("nlu") or {}).get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return name if isinstance(name, str) else None


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
        name = intent_of(meta)
        if name is not None and name not in intents:
            intents.append(name)
    return ConversationSignals(
        intents=tuple(intents),
        messages=len(lengths),
        average_length=sum(lengths) / len(lengths) if lengths else None,
    )


@dataclass(frozen=True, slots=True)
class UnderWay:
    """Whether a complaint or a fraud report of the customer is under way (the suitability gate's
    `blocked`), and the intents that say so."""

    open_complaint: bool
    fraud_report: bool
    intents: tuple[str, ...] = ()


def complaint_and_fraud(
    s: Session, conversation_id: str, customer_id: str, *, now: datetime, abandon_after_days: int
) -> UnderWay:
    """A complaint or a fraud report is under way when an issue the customer left open
    (`helixdesk.memory.service.open_issues`, in any conversation) or, while this conversation is not
    closed, one of the customer's messages in it was understood as a complaint or fraud intent
    (`COMPLAINT_INTENTS`, `FRAUD_INTENTS`). Issues gone stale are marked abandoned in the caller's
    transaction, as the bot's turn does (a `reading` session commits nothing)."""
    conv = s.get(Conversation, conversation_id)
    if conv is None:
        raise ConversationNotFoundError(f"no conversation {conversation_id}")
    found: list[str] = []
    if conv.state != ConversationState.CLOSED.value:
        metas = s.scalars(
            select(Message.meta).where(
                Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER.value
            )
        ).all()
        found.extend(name for meta in metas if (name := intent_of(meta)) is not None)
    # Last: open_issues may mark stale issues abandoned, and nothing read after it should flush that.
    issues = open_issues(s, customer_id, now=now, abandon_after_days=abandon_after_days)
    found.extend(i.intent for i in issues)
    relevant = tuple(dict.fromkeys(i for i in found if i in GATED_INTENTS))
    return UnderWay(
        open_complaint=any(i in COMPLAINT_INTENTS for i in relevant),
        fraud_report=any(i in FRAUD_INTENTS for i in relevant),
        intents=relevant,
    )
