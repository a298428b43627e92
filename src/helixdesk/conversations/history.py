"""Past conversations written as they happened: a bank's history from the system it had before, or
the demo month (`helixdesk insight demo`).

`import_past(s, writer, past)` stores one finished conversation with its own timestamps: the
customer (by bank reference, or a visitor of their own), the conversation (closed at its last
message), its messages masked like every message with their NLU records, its rating, and the
same events a live conversation would have published, so every consumer (quality, insight) reads
it exactly as it reads a live one. It runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.bus import outbox
from helixdesk.conversations.models import (
    Conversation,
    ConversationState,
    CsatRating,
    Customer,
    Message,
    Sender,
)
from helixdesk.conversations.store import message_data
from helixdesk.conversations.writer import ConversationWriter, NewMessage, _message_event
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.events import ConversationCreated, ConversationRated, ConversationStateChanged, Event
from helixdesk.core.ids import new_id
from helixdesk.core.turn import Turn
from helixdesk.privacy.transcripts import masked_nlu


@dataclass(frozen=True, slots=True)
class PastMessage:
    sender: Sender
    text: str
    at: datetime
    meta: dict[str, Any] = field(default_factory=dict)  # a reply's kind, a person's name and role
    turn: Turn | None = None  # what the NLU made of a customer message (kept masked)
    reply_to: int | None = None  # the index of the customer message a bot reply answers


@dataclass(frozen=True, slots=True)
class PastConversation:
    channel: str
    language: str
    messages: Sequence[PastMessage]
    customer_ref: str | None = None
    rating: int | None = None
    comment: str = ""
    comment_turn: Turn | None = None


def import_past(s: Session, writer: ConversationWriter, past: PastConversation) -> str:
    """Store `past` as a closed conversation with its events; returns its id."""
    if not past.messages:
        raise ValidationFailedError("a past conversation needs at least one message", code="empty_history")
    times = [m.at for m in past.messages]
    if times != sorted(times):
        raise ValidationFailedError(
            "a past conversation's messages must be in time order", code="bad_history"
        )
    started, ended = times[0], times[-1]
    customer = _customer(s, past.customer_ref, past.language, started)
    conv = Conversation(
        id=new_id(),
        customer_id=customer.id,
        channel=past.channel,
        state=ConversationState.CLOSED.value,
        language=past.language,
        last_seq=len(past.messages),
        created_at=started,
        updated_at=ended,
        closed_at=ended,
    )
    s.add(conv)
    s.flush()
    events: list[Event] = [
        ConversationCreated(
            conversation_id=conv.id,
            channel=past.channel,
            customer_id=customer.id,
            customer_ref=past.customer_ref,
            occurred_at=started,
        )
    ]
    ids: list[str] = []
    for seq, m in enumerate(past.messages, start=1):
        masked = writer.privacy.mask(m.text)
        meta = dict(m.meta)
        if m.turn is not None:
            meta["nlu"] = masked_nlu(m.turn, masked)
            if masked.changed:
                meta["pii"] = [span.type for span in masked.spans]
        row = Message(
            id=new_id(),
            conversation_id=conv.id,
            seq=seq,
            sender=m.sender.value,
            text=masked.text,
            in_reply_to=ids[m.reply_to] if m.reply_to is not None else None,
            meta=meta,
            created_at=m.at,
        )
        s.add(row)
        ids.append(row.id)
        writer.privacy.keep(s, row.id, masked)
        data = message_data(row)
        event = _message_event(conv.id, data, NewMessage(sender=m.sender, text=m.text, meta=meta))
        events.append(event.model_copy(update={"occurred_at": m.at}))
    events.append(
        ConversationStateChanged(
            conversation_id=conv.id, old_state="bot", new_state="closed", reason="imported", occurred_at=ended
        )
    )
    if past.rating is not None:
        comment = writer.privacy.mask(past.comment) if past.comment else None
        s.add(
            CsatRating(
                conversation_id=conv.id,
                customer_id=customer.id,
                score=past.rating,
                comment=comment.text if comment else "",
                nlu=masked_nlu(past.comment_turn, comment) if comment and past.comment_turn else {},
                language=past.language,
                created_at=ended,
            )
        )
        events.append(
            ConversationRated(
                conversation_id=conv.id, score=past.rating, has_comment=bool(comment), occurred_at=ended
            )
        )
    s.flush()
    outbox.record(s, events)
    return conv.id


def _customer(s: Session, ref: str | None, language: str, at: datetime) -> Customer:
    if ref is not None:
        found = s.scalar(select(Customer).where(Customer.bank_ref == ref))
        if found is not None:
            return found
    customer = Customer(bank_ref=ref, language=language, created_at=at)
    s.add(customer)
    s.flush()
    return customer
