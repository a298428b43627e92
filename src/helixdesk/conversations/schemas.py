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
        description="answer, action, prompt, confirm, verification, handoff, issue, tip, fallback or text",
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
