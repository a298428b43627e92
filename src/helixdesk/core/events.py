"""Typed events of every change to a conversation.

Each is stored in the event log (`helixdesk.bus.outbox`) in the same transaction as the change it
describes; the outbox relay then publishes it. Every event has a unique `event_id`, so consumers
can be idempotent under at-least-once delivery, and once published a `log_seq`: its place in the
published log, gap-free and in commit order per conversation, from which consumers resume.
Each type has a schema (these models) and a test (tests/unit/test_events.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


def _event_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


class Citation(BaseModel):
    """Where a bot's knowledge answer comes from (document title, source, FAQ id or section)."""

    model_config = ConfigDict(frozen=True)

    title: str
    source: str
    ref: str | None = None


class ImageRead(BaseModel):
    """A customer's image message: what the OCR read (masked) and the fields found in it."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="charge, bill, error or unknown")
    text: str = Field(description="The text read, with personal data masked.")
    fields: dict[str, str] = Field(default_factory=dict)


class VoiceHeard(BaseModel):
    """A customer's voice message: the message's text is what the speech recogniser heard."""

    model_config = ConfigDict(frozen=True)

    duration_s: float = Field(description="Length of the recording, in seconds.")
    confidence: float = Field(description="How sure the recogniser is of the transcript, 0 to 1.")
    language: str = Field(description="The language it was heard in: zh-Hans, zh-Hant or en.")


class MessageData(BaseModel):
    """A message as clients see it (REST, WebSocket and events share this shape)."""

    model_config = ConfigDict(frozen=True)

    id: str
    conversation_id: str
    seq: int
    sender: Literal["customer", "bot", "agent", "system"]
    text: str
    client_message_id: str | None = None
    in_reply_to: str | None = None
    created_at: datetime
    author: str | None = Field(default=None, description="The person's display name (agent messages).")
    author_role: str | None = Field(default=None, description="The person's role (agent messages).")
    # Bot replies only: what kind of reply it is (answer, action, prompt, ...) and, for knowledge
    # answers, where the text comes from, so every channel can show the source.
    kind: str | None = None
    citations: tuple[Citation, ...] = ()
    # Customer image messages (`kind: "image"`): what was read from the image.
    image: ImageRead | None = None
    # Customer voice messages (`kind: "voice"`): `text` is the transcript.
    voice: VoiceHeard | None = None


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=_event_id)
    occurred_at: datetime = Field(default_factory=_now)
    conversation_id: str
    log_seq: int | None = Field(
        default=None, description="Place in the published event log (set by the relay)."
    )


class ConversationCreated(_Event):
    type: Literal["conversation.created"] = "conversation.created"
    channel: str
    customer_id: str
    customer_ref: str | None = None


class MessageReceived(_Event):
    type: Literal["message.received"] = "message.received"
    message: MessageData


class ReplySent(_Event):
    type: Literal["reply.sent"] = "reply.sent"
    message: MessageData
    intent: str | None = None


class ConversationStateChanged(_Event):
    type: Literal["conversation.state_changed"] = "conversation.state_changed"
    old_state: str
    new_state: str
    reason: str = ""
    queue: str | None = None


class MessageSent(_Event):
    """A message from a person (agent) or the system (an agent joined, the conversation closed)."""

    type: Literal["message.sent"] = "message.sent"
    message: MessageData


class HandoffQueued(_Event):
    """A conversation waits for a person: in `queue`, with a priority and why."""

    type: Literal["handoff.queued"] = "handoff.queued"
    handoff_id: str
    queue: str
    priority: int
    reason: str
    explanation: str
    language: str
    offered_to: str | None = None


class HandoffClaimed(_Event):
    type: Literal["handoff.claimed"] = "handoff.claimed"
    handoff_id: str
    queue: str
    agent_id: str
    agent_name: str
    agent_role: str


class HandoffAnswered(_Event):
    """A person's first reply to the customer in a handoff: its first response (SLAs stop counting)."""

    type: Literal["handoff.answered"] = "handoff.answered"
    handoff_id: str
    queue: str
    agent_id: str
    waited_seconds: int = Field(ge=0, description="From being queued to the first reply.")
    sla_seconds: int = Field(description="The handoff's first-response target.")


class HandoffEnded(_Event):
    """A person's part ended: transferred, handed back to the bot, or wrapped up (closed)."""

    type: Literal["handoff.ended"] = "handoff.ended"
    handoff_id: str
    queue: str
    status: Literal["transferred", "handed_back", "closed"]
    agent_id: str | None = None
    disposition: str | None = None
    resolution: str | None = None


class ConversationRated(_Event):
    """The customer rated the conversation (CSAT, 1-5), with or without a comment."""

    type: Literal["conversation.rated"] = "conversation.rated"
    score: int = Field(ge=1, le=5)
    has_comment: bool = False


class NoteWhispered(_Event):
    """A supervisor whispered to the agent handling the conversation (the customer never sees it)."""

    type: Literal["note.whispered"] = "note.whispered"
    note_id: int
    to_agent_id: str
    author_name: str
    text: str


class QualityAlertRaised(_Event):
    """Quality monitoring found a conversation going badly; supervisors see it live."""

    type: Literal["quality.alert"] = "quality.alert"
    alert_id: str
    kind: str
    severity: Literal["low", "medium", "high"]
    reason: str
    queue: str | None = None
    agent_id: str | None = None


Event = Annotated[
    ConversationCreated
    | MessageReceived
    | ReplySent
    | ConversationStateChanged
    | MessageSent
    | HandoffQueued
    | HandoffClaimed
    | HandoffAnswered
    | HandoffEnded
    | ConversationRated
    | NoteWhispered
    | QualityAlertRaised,
    Field(discriminator="type"),
]
EVENT_TYPES: tuple[type[_Event], ...] = (
    ConversationCreated,
    MessageReceived,
    ReplySent,
    ConversationStateChanged,
    MessageSent,
    HandoffQueued,
    HandoffClaimed,
    HandoffAnswered,
    HandoffEnded,
    ConversationRated,
    NoteWhispered,
    QualityAlertRaised,
)

_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_to_json(event: Event) -> str:
    return event.model_dump_json()


def event_from_json(raw: str | bytes) -> Event:
    return _ADAPTER.validate_json(raw)
