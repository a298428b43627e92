"""Public HTTP API v1 for conversations. Thin: validation by schema, work by the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from helixdesk.conversations.schemas import (
    ConversationCreate,
    ConversationOut,
    MessageCreate,
    MessagePage,
    MessagePostResult,
)
from helixdesk.deps import ConversationsDep, LimitsDep
from helixdesk.http import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationOut)
async def create_conversation(body: ConversationCreate, service: ConversationsDep) -> ConversationOut:
    """Start a conversation on a channel, for a known bank customer or anonymously."""
    return await service.create_conversation(
        channel=body.channel, customer_ref=body.customer_ref, language=body.language
    )


@router.get("/{conversation_id}", response_model=ConversationOut)
async def get_conversation(conversation_id: str, service: ConversationsDep) -> ConversationOut:
    return await service.get_conversation(conversation_id)


@router.post("/{conversation_id}/messages", response_model=MessagePostResult)
async def post_message(
    conversation_id: str, body: MessageCreate, service: ConversationsDep, limits: LimitsDep
) -> MessagePostResult:
    """Send the customer's message; the reply comes back in the same response.

    The message is stored before the bot works on it. Repeating a `client_message_id` returns
    the original message and replies with `duplicate: true`. Messages per conversation are rate
    limited (429 `rate_limited` with `Retry-After`).
    """
    await limits.check_message(conversation_id)
    return await service.post_customer_message(
        conversation_id, body.text, client_message_id=body.client_message_id
    )


@router.get("/{conversation_id}/messages", response_model=MessagePage)
async def list_messages(
    conversation_id: str,
    service: ConversationsDep,
    after_seq: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="Only messages after this sequence number.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> MessagePage:
    messages = await service.list_messages(conversation_id, after_seq=after_seq, limit=limit)
    last = messages[-1].seq if messages else after_seq
    return MessagePage(messages=messages, last_seq=last)
