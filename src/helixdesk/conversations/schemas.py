"""Request and response bodies of the public conversation API (v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from helixdesk.core.events import Citation, MessageData
from helixdesk.core.inputs import Input

ChannelName = Literal["web", "app", "api", "wechat", "social", "voice", "cli"]
LanguageTag = Literal["zh-Hans", "zh-Hant", "en"]


class ConversationCreate(Input):
    channel: ChannelName = Field(description="The channel the customer is writing from.")
    customer_ref: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="The core bank's customer number, when the channel knows who the customer is.",
    )
    language: LanguageTag | None = Field(default=None, description="Preferred reply language, if known.")


class MessageCreate(Input):
    text: str = Field(min_length=1, max_length=20000, description="What the customer typed.")
    client_message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="A client-chosen id; sending the same id again returns the original result.",
    )


class ConversationOut(BaseModel):
    id: str
    channel: str
    state: Literal["bot", "waiting_for_agent", "with_agent", "closed"]
    language: str | None
    customer_ref: str | None
    last_seq: int
    created_at: datetime
    updated_at: datetime
    token: str | None = Field(
        default=None,
        description="Only in the response that creates the conversation: the secret that opens it "
        "(send it as `Authorization: Bearer <token>`). It is not stored and cannot be shown again.",
    )


class Reply(BaseModel):
    text: str
    kind: str = Field(
        default="text",
        description="answer, action, prompt, confirm, verification, handoff, incident, issue, tip, fallback or text",
    )
    citations: list[Citation] = Field(
        default_factory=list, description="Where a knowledge answer comes from."
    )
    message: MessageData


class MessagePostResult(BaseModel):
    message: MessageData
    replies: list[Reply]
    state: Literal["bot", "waiting_for_agent", "with_agent", "closed"]
    handoff: dict[str, Any] | None = None
    duplicate: bool = Field(default=False, description="True when this repeats an earlier client_message_id.")


class HandoffRequested(BaseModel):
    state: Literal["bot", "waiting_for_agent", "with_agent", "closed"] = Field(
        description="The conversation's state after the request."
    )


class MessagePage(BaseModel):
    messages: list[MessageData]
    last_seq: int


class RatingCreate(Input):
    # Any JSON value is taken here so that every bad score, a word or a fraction as much as 0 or 6,
    # gets the same `invalid_score` from the service; the schema publishes what is accepted.
    score: Any = Field(
        description="How the customer rates the conversation: a whole number from 1 (very poor) to 5 "
        "(excellent).",
        json_schema_extra={"type": "integer", "minimum": 1, "maximum": 5},
    )
    comment: str = Field(
        default="",
        max_length=20000,
        description="What the customer adds in their own words (optional; at most 1000 characters). "
        "Stored with personal data masked.",
    )


class RatingOut(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str = Field(description="The comment as stored, personal data masked; empty without one.")
    language: str | None
    created_at: datetime


class RatingStatus(BaseModel):
    rating: RatingOut | None = Field(description="The conversation's rating, once given.")
    can_rate: bool = Field(
        description="A rating would be taken now: the customer has written, it is not rated yet, and "
        "it has not been closed for longer than a rating is taken."
    )
    offer: bool = Field(
        description="The chat should offer the rating now: it can be rated, and the conversation has "
        "closed or the customer's last message said they are done (thanks, goodbye)."
    )


class EarlierConversation(BaseModel):
    id: str
    channel: str = Field(description="Where it took place: web, app, api, wechat, social, voice or cli.")
    state: Literal["bot", "waiting_for_agent", "with_agent", "closed"]
    language: str | None
    started_at: datetime
    ended_at: datetime | None = Field(description="When it closed; null while it is still open.")
    last_activity_at: datetime = Field(description="When its last message was written.")
    messages: list[MessageData] = Field(
        description="Its messages as stored (masked), in order: the latest 200 when it has more."
    )
    messages_left_out: int = Field(description="How many of its first messages are not listed (0 mostly).")


class EarlierPage(BaseModel):
    conversations: list[EarlierConversation] = Field(
        description="The same customer's conversations started before this one, newest first."
    )
    next_cursor: str | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page."
    )
