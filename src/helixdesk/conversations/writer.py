"""The one writer of conversations: adding a message and moving a conversation between states.

Everything that writes to a conversation (the customer's messages and the bot's turn in
`helixdesk.conversations.service`, the handoff use cases, the agent workspace) calls these methods
inside its own transaction, after `lock` has locked the conversation row. That lock serialises every
writer of one conversation, so sequence numbers and events follow commit order.

- `append` stores a message: always masked (with the raw values in the vault when a keyring is
  configured), with the next sequence number, and its event in the event log: `MessageReceived`
  for the customer, `ReplySent` for the bot, `MessageSent` for a person or the system.
- `change_state` moves the conversation along `TRANSITIONS` only, with a
  `ConversationStateChanged` event.
- `understanding` and `record_understanding` keep the NLU record of a customer message, re-pointed
  at its masked text.
- `rate` stores the customer's rating of the conversation (CSAT): one per conversation, its comment
  masked with its NLU record, and a `ConversationRated` event.

A writer may hold the conversation as the ORM object (`lock`) or, on the bot's hot path, as a
`LockedConversation` read with one statement (`lock_row`) whose changes `save_row` writes with
one more; either way the message rows and their events go in with plain inserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from helixdesk.bus import outbox
from helixdesk.conversations.errors import (
    AlreadyRatedError,
    ConversationClosedError,
    ConversationNotFoundError,
    IllegalTransitionError,
)
from helixdesk.conversations.models import (
    Conversation,
    ConversationState,
    CsatRating,
    Customer,
    Message,
    Sender,
)
from helixdesk.conversations.store import row_data
from helixdesk.core.clock import utcnow
from helixdesk.core.events import (
    ConversationRated,
    ConversationStateChanged,
    Event,
    MessageData,
    MessageReceived,
    MessageSent,
    ReplySent,
)
from helixdesk.core.ids import new_id
from helixdesk.core.turn import Turn
from helixdesk.privacy.masking import SECRET_MASK, Masked
from helixdesk.privacy.transcripts import TranscriptPrivacy, masked_nlu
from helixdesk.privacy.vault import forget_values

S = ConversationState
# Who may move a conversation where: the bot queues it for a person; a person claims it, transfers
# it (back to waiting), hands it back to the bot, or wraps it up.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.BOT: frozenset({S.WAITING_FOR_AGENT}),
    S.WAITING_FOR_AGENT: frozenset({S.WITH_AGENT}),
    S.WITH_AGENT: frozenset({S.WAITING_FOR_AGENT, S.BOT, S.CLOSED}),
    S.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class NewMessage:
    sender: Sender
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    in_reply_to: str | None = None
    client_message_id: str | None = None
    expect_code: bool = False  # the bot waits for a one-time code: a lone digit run is a secret
    intent: str | None = None  # bot replies: the intent they answer (on the event)
    masked: Masked | None = None  # the text masked already (before the transaction)


@dataclass(frozen=True, slots=True)
class NewRating:
    """The customer's rating: a score of 1-5 and their comment, masked already, with its NLU record
    (re-pointed at the masked text; empty without a comment)."""

    score: int
    comment: Masked | None = None
    nlu: dict[str, Any] = field(default_factory=dict)
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Appended:
    message: MessageData
    masked: Masked


_TRACKED = ("state", "language", "last_seq", "turn_message_id", "turn_expires_at", "closed_at")


@dataclass
class LockedConversation:
    """A conversation row locked for this transaction, as plain values; `save_row` writes the changes."""

    id: str
    customer_id: str
    channel: str
    state: str
    language: str | None
    last_seq: int
    turn_message_id: str | None
    turn_expires_at: datetime | None
    closed_at: datetime | None
    customer_ref: str | None
    _read: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._read = {k: getattr(self, k) for k in _TRACKED}

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _TRACKED if getattr(self, k) != self._read[k]}


Writable = Conversation | LockedConversation


class ConversationWriter:
    def __init__(self, *, privacy: TranscriptPrivacy) -> None:
        self.privacy = privacy

    def lock(self, s: Session, conversation_id: str, *, open_only: bool = True) -> Conversation:
        """The conversation, its row locked for this transaction; a closed one is refused."""
        conv = s.scalar(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
        if conv is None:
            raise ConversationNotFoundError(f"no conversation {conversation_id}")
        if open_only and conv.state == ConversationState.CLOSED.value:
            raise ConversationClosedError(f"conversation {conversation_id} is closed")
        return conv

    def lock_row(self, s: Session, conversation_id: str, *, open_only: bool = True) -> LockedConversation:
        """The conversation and its customer's bank reference, its row locked; a closed one is refused."""
        row = s.connection().execute(_LOCK_ROW, {"id": conversation_id}).first()
        if row is None:
            raise ConversationNotFoundError(f"no conversation {conversation_id}")
        conv = LockedConversation(*row)
        if open_only and conv.state == ConversationState.CLOSED.value:
            raise ConversationClosedError(f"conversation {conversation_id} is closed")
        return conv

    def save_row(self, s: Session, conv: LockedConversation) -> None:
        """Write what changed on a `LockedConversation` (one statement)."""
        if conv.changes():
            values = {k: getattr(conv, k) for k in _TRACKED}
            s.connection().execute(_SAVE_ROW, {**values, "conv_id": conv.id, "updated_at": utcnow()})
            conv.__post_init__()

    def append(self, s: Session, conv: Writable, new: NewMessage) -> Appended:
        (done,) = self.append_all(s, conv, [new])
        return done

    def append_all(self, s: Session, conv: Writable, messages: Sequence[NewMessage]) -> list[Appended]:
        """Store messages in order with consecutive sequence numbers, and their events.

        The conversation is locked, so its `last_seq` is this transaction's to move on.
        """
        if not messages:
            return []
        now = utcnow()
        first = conv.last_seq + 1
        conv.last_seq += len(messages)
        if isinstance(conv, Conversation):
            conv.updated_at = now
        rows: list[dict[str, Any]] = []
        masks: list[Masked] = []
        for i, new in enumerate(messages):
            masked = new.masked or self.privacy.mask(new.text, expect_code=new.expect_code)
            masks.append(masked)
            rows.append(
                {
                    "id": new_id(),
                    "conversation_id": conv.id,
                    "seq": first + i,
                    "sender": new.sender.value,
                    "text": masked.text,
                    "client_message_id": new.client_message_id,
                    "in_reply_to": new.in_reply_to,
                    "meta": dict(new.meta),
                    "created_at": now,
                }
            )
        s.connection().execute(_INSERT_MESSAGES, rows)
        out: list[Appended] = []
        events: list[Event] = []
        for row, masked, new in zip(rows, masks, messages, strict=True):
            self.privacy.keep(s, row["id"], masked)
            data = row_data(row)
            out.append(Appended(data, masked))
            events.append(_message_event(conv.id, data, new))
        outbox.record(s, events)
        return out

    def change_state(
        self,
        s: Session,
        conv: Writable,
        new_state: ConversationState,
        *,
        reason: str,
        queue: str | None = None,
    ) -> None:
        old = conv.state
        if new_state.value not in TRANSITIONS.get(old, frozenset()):
            raise IllegalTransitionError(f"a conversation cannot go from {old} to {new_state.value}")
        conv.state = new_state.value
        if new_state == ConversationState.CLOSED:
            conv.closed_at = utcnow()
        outbox.record(
            s,
            [
                ConversationStateChanged(
                    conversation_id=conv.id,
                    old_state=old,
                    new_state=new_state.value,
                    reason=reason,
                    queue=queue,
                )
            ],
        )

    def rate(self, s: Session, conv: Writable, rating: NewRating) -> CsatRating:
        """Store the customer's rating of the conversation and its `ConversationRated` event.

        One rating per conversation: a second one raises `AlreadyRatedError` and changes nothing.
        The conversation is locked, so two ratings sent at once cannot both pass the check (and the
        table's unique key on the conversation holds even if they did).
        """
        if s.scalar(select(CsatRating.id).where(CsatRating.conversation_id == conv.id)) is not None:
            raise AlreadyRatedError(f"conversation {conv.id} has been rated already")
        comment = rating.comment.text if rating.comment is not None else ""
        row = CsatRating(
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            score=rating.score,
            comment=comment,
            nlu=dict(rating.nlu) if comment else {},
            language=rating.language,
            created_at=utcnow(),
        )
        s.add(row)
        s.flush()
        outbox.record(
            s, [ConversationRated(conversation_id=conv.id, score=rating.score, has_comment=bool(comment))]
        )
        return row

    def understanding(
        self, message: MessageData, turn: Turn, masked: Masked, *, redact: bool
    ) -> dict[str, Any]:
        """What `record_understanding` writes: the NLU record of a stored customer message, re-pointed
        at its masked text, and with `redact` the code mask for its text (no I/O: call it before the
        transaction)."""
        nlu = masked_nlu(turn, masked)
        meta: dict[str, Any] = {"nlu": nlu}
        if masked.changed:
            meta["pii"] = [span.type for span in masked.spans]
        if masked.text != message.text and not redact:
            # The stored text was masked more strictly (a code was expected when it was stored, and
            # this is a retry): the NLU record keeps none of the text rather than less masking.
            for key in ("text", "normalized", "entities", "risk"):
                nlu.pop(key, None)
        if redact:
            # A one-time code answered the step-up: nothing of the message is kept, in any form.
            for key in ("text", "normalized", "entities"):
                nlu.pop(key, None)
            return {"meta": {"nlu": nlu, "redacted": "one_time_code"}, "text": SECRET_MASK}
        return {"meta": meta}

    def record_understanding(self, s: Session, message: MessageData, values: dict[str, Any]) -> None:
        """Store what `understanding` made of a customer message."""
        if "text" in values:
            forget_values(s, message.id)
            s.connection().execute(_REDACT_MESSAGE, {"message_id": message.id, **values})
        else:
            s.connection().execute(_RECORD_NLU, {"message_id": message.id, **values})


# The hot path's statements, built once (building a statement costs more than running it).
_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_INSERT_MESSAGES = _MESSAGES.insert()
_RECORD_NLU = (
    _MESSAGES.update().where(_MESSAGES.c.id == bindparam("message_id")).values(meta=bindparam("meta"))
)
_REDACT_MESSAGE = (
    _MESSAGES.update()
    .where(_MESSAGES.c.id == bindparam("message_id"))
    .values(meta=bindparam("meta"), text=bindparam("text"))
)
_LOCK_ROW = (
    select(
        _CONVERSATIONS.c.id,
        _CONVERSATIONS.c.customer_id,
        _CONVERSATIONS.c.channel,
        _CONVERSATIONS.c.state,
        _CONVERSATIONS.c.language,
        _CONVERSATIONS.c.last_seq,
        _CONVERSATIONS.c.turn_message_id,
        _CONVERSATIONS.c.turn_expires_at,
        _CONVERSATIONS.c.closed_at,
        _CUSTOMERS.c.bank_ref,
    )
    .join(_CUSTOMERS, _CUSTOMERS.c.id == _CONVERSATIONS.c.customer_id)
    .where(_CONVERSATIONS.c.id == bindparam("id"))
    .with_for_update(of=_CONVERSATIONS)
)
_SAVE_ROW = (
    _CONVERSATIONS.update()
    .where(_CONVERSATIONS.c.id == bindparam("conv_id"))
    .values({k: bindparam(k) for k in (*_TRACKED, "updated_at")})
)


def _message_event(conversation_id: str, data: MessageData, new: NewMessage) -> Event:
    if new.sender == Sender.CUSTOMER:
        return MessageReceived(conversation_id=conversation_id, message=data)
    if new.sender == Sender.BOT:
        return ReplySent(conversation_id=conversation_id, message=data, intent=new.intent)
    return MessageSent(conversation_id=conversation_id, message=data)
