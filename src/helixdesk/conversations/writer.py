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
- `record_understanding` keeps the NLU record of a customer message, re-pointed at its masked text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from helixdesk.bus import outbox
from helixdesk.conversations.errors import (
    ConversationClosedError,
    ConversationNotFoundError,
    IllegalTransitionError,
)
from helixdesk.conversations.models import Conversation, ConversationState, Message, Sender
from helixdesk.conversations.store import message_data
from helixdesk.core.clock import utcnow
from helixdesk.core.events import (
    ConversationStateChanged,
    Event,
    MessageData,
    MessageReceived,
    MessageSent,
    ReplySent,
)
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


@dataclass(frozen=True, slots=True)
class Appended:
    message: MessageData
    masked: Masked


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

    def append(self, s: Session, conv: Conversation, new: NewMessage) -> Appended:
        (done,) = self.append_all(s, conv, [new])
        return done

    def append_all(self, s: Session, conv: Conversation, messages: Sequence[NewMessage]) -> list[Appended]:
        """Store messages in order with consecutive sequence numbers, and their events."""
        if not messages:
            return []
        last = int(
            s.execute(
                update(Conversation)
                .where(Conversation.id == conv.id)
                .values(last_seq=Conversation.last_seq + len(messages), updated_at=utcnow())
                .returning(Conversation.last_seq)
                .execution_options(synchronize_session=False)
            ).scalar_one()
        )
        conv.last_seq = last
        out: list[Appended] = []
        rows: list[tuple[Message, Masked, NewMessage]] = []
        for i, new in enumerate(messages):
            masked = self.privacy.mask(new.text, expect_code=new.expect_code)
            row = Message(
                conversation_id=conv.id,
                seq=last - len(messages) + 1 + i,
                sender=new.sender.value,
                text=masked.text,
                in_reply_to=new.in_reply_to,
                client_message_id=new.client_message_id,
                meta=dict(new.meta),
            )
            s.add(row)
            rows.append((row, masked, new))
        s.flush()
        events: list[Event] = []
        for row, masked, new in rows:
            self.privacy.keep(s, row.id, masked)
            data = message_data(row)
            out.append(Appended(data, masked))
            events.append(_message_event(conv.id, data, new))
        outbox.record(s, events)
        return out

    def change_state(
        self,
        s: Session,
        conv: Conversation,
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

    def record_understanding(
        self, s: Session, message_id: str, turn: Turn, masked: Masked, *, redact: bool
    ) -> None:
        """The NLU record of a stored customer message; `redact` replaces its text by the code mask."""
        message = s.get(Message, message_id)
        if message is None:
            return
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
            message.text = SECRET_MASK
            forget_values(s, message.id)
            for key in ("text", "normalized", "entities"):
                nlu.pop(key, None)
            meta = {"nlu": nlu, "redacted": "one_time_code"}
        message.meta = meta


def _message_event(conversation_id: str, data: MessageData, new: NewMessage) -> Event:
    if new.sender == Sender.CUSTOMER:
        return MessageReceived(conversation_id=conversation_id, message=data)
    if new.sender == Sender.BOT:
        return ReplySent(conversation_id=conversation_id, message=data, intent=new.intent)
    return MessageSent(conversation_id=conversation_id, message=data)
