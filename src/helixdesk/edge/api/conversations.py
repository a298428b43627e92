"""Public HTTP API v1 for conversations. Thin: validation by schema, access and work by the services.

Who may call: a channel's back end with its API key (`X-Api-Key`), or the customer's device with
the conversation's token (`Authorization: Bearer <token>`, returned once when it is created).
"""

from __future__ import annotations

import re
from typing import Annotated

import anyio
from fastapi import APIRouter, File, Form, Query, UploadFile, status

from helixdesk.conversations.earlier import PAGE_DEFAULT, PAGE_MAX
from helixdesk.conversations.schemas import (
    ConversationCreate,
    ConversationOut,
    EarlierPage,
    HandoffRequested,
    MessageCreate,
    MessagePage,
    MessagePostResult,
    RatingCreate,
    RatingOut,
    RatingStatus,
)
from helixdesk.edge.deps import (
    ChannelCallerDep,
    ConversationsDep,
    EarlierDep,
    ImagesDep,
    LimitsDep,
    RatingsDep,
    VoiceDep,
)
from helixdesk.edge.http import ERROR_RESPONSES, ErrorResponse

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationOut)
async def create_conversation(
    body: ConversationCreate, service: ConversationsDep, caller: ChannelCallerDep
) -> ConversationOut:
    """Start a conversation on a channel, for a known bank customer or anonymously.

    The response carries the conversation's `token` (shown once): send it with every later call.
    """
    service.check_create(caller, channel=body.channel, customer_ref=body.customer_ref)
    return await service.create_conversation(
        channel=body.channel, customer_ref=body.customer_ref, language=body.language
    )


@router.get("/{conversation_id}", response_model=ConversationOut)
async def get_conversation(
    conversation_id: str, service: ConversationsDep, caller: ChannelCallerDep
) -> ConversationOut:
    await anyio.to_thread.run_sync(service.check_access, conversation_id, caller)
    return await service.get_conversation(conversation_id)


@router.post("/{conversation_id}/messages", response_model=MessagePostResult)
async def post_message(
    conversation_id: str,
    body: MessageCreate,
    service: ConversationsDep,
    caller: ChannelCallerDep,
    limits: LimitsDep,
) -> MessagePostResult:
    """Send the customer's message; the reply comes back in the same response.

    The message is stored before the bot works on it. Repeating a `client_message_id` returns
    the original message and replies with `duplicate: true`. While a person has the conversation
    the bot stays silent and `replies` is empty; the person's messages arrive on the WebSocket.
    Messages per conversation are rate limited (429 `rate_limited` with `Retry-After`).
    """
    await anyio.to_thread.run_sync(service.check_access, conversation_id, caller)
    await limits.check_message(conversation_id)
    return await service.post_customer_message(
        conversation_id, body.text, client_message_id=body.client_message_id
    )


# The image endpoint's paths (the body size limit is larger there).
IMAGES_PATH = re.compile(r"/api/v1/conversations/[^/]+/images")


@router.post(
    "/{conversation_id}/images",
    response_model=MessagePostResult,
    responses={
        400: {"model": ErrorResponse, "description": "The multipart body cannot be parsed (`bad_request`)"}
    },
)
async def post_image(
    conversation_id: str,
    service: ConversationsDep,
    images: ImagesDep,
    caller: ChannelCallerDep,
    limits: LimitsDep,
    image: Annotated[UploadFile, File(description="A PNG, JPEG or WebP image.")],
    caption: Annotated[str, Form(max_length=20000, description="Words sent with the image.")] = "",
    client_message_id: Annotated[str | None, Form(min_length=1, max_length=64)] = None,
) -> MessagePostResult:
    """Send an image (a screenshot of a charge, a bill, an app error screen), with optional words.

    `multipart/form-data` with the file in `image`. The server reads it offline (OCR): the message
    is stored with the caption as its text, the text read (masked) and its fields under
    `meta.image`, and the original image encrypted; the fields are the turn's entities, so a
    screenshot of a charge is looked up in the customer's transactions. The reply comes back in the
    same response, as for a text message. Refused: `image_invalid` (not a PNG, JPEG or WebP that
    decodes), `image_too_large` (413), `image_dimensions_invalid`; rate limited like messages.
    """
    await anyio.to_thread.run_sync(service.check_access, conversation_id, caller)
    await limits.check_message(conversation_id)
    data = await image.read(images.max_bytes + 1)
    return await images.post_image(
        conversation_id, data, caption=caption, client_message_id=client_message_id
    )


# The voice endpoint's paths (the body size limit is larger there).
AUDIO_PATH = re.compile(r"/api/v1/conversations/[^/]+/audio")


@router.post(
    "/{conversation_id}/audio",
    response_model=MessagePostResult,
    responses={
        400: {"model": ErrorResponse, "description": "The multipart body cannot be parsed (`bad_request`)"}
    },
)
async def post_audio(
    conversation_id: str,
    service: ConversationsDep,
    voice: VoiceDep,
    caller: ChannelCallerDep,
    limits: LimitsDep,
    audio: Annotated[
        UploadFile, File(description="A recording: WAV, MP3, Ogg/Opus, AMR, M4A (AAC) or WebM.")
    ],
    client_message_id: Annotated[str | None, Form(min_length=1, max_length=64)] = None,
) -> MessagePostResult:
    """Send a voice message; it is transcribed offline and answered as if typed.

    `multipart/form-data` with the file in `audio`. The server recognises the speech in the
    conversation's language (Mandarin or English when it has none yet): the message is stored with
    the transcript as its text, `kind: "voice"` and `voice` (length, confidence, language heard),
    and the recording encrypted. The transcript goes through the same understanding and dialogue
    as a typed message, and the reply comes back in the same response. Refused: `audio_unreadable`
    (not audio that decodes), `audio_too_large` (413), `audio_too_long`, `audio_no_speech` (no words
    made out); rate limited like messages.
    """
    await anyio.to_thread.run_sync(service.check_access, conversation_id, caller)
    await limits.check_message(conversation_id)
    data = await audio.read(voice.max_bytes + 1)
    return await voice.post_voice(conversation_id, data, client_message_id=client_message_id)


@router.get("/{conversation_id}/messages", response_model=MessagePage)
async def list_messages(
    conversation_id: str,
    service: ConversationsDep,
    caller: ChannelCallerDep,
    after_seq: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="Only messages after this sequence number.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> MessagePage:
    await anyio.to_thread.run_sync(service.check_access, conversation_id, caller)
    messages = await service.list_messages(conversation_id, after_seq=after_seq, limit=limit)
    last = messages[-1].seq if messages else after_seq
    return MessagePage(messages=messages, last_seq=last)


@router.get(
    "/{conversation_id}/earlier",
    response_model=EarlierPage,
    responses={422: {"model": ErrorResponse, "description": "A bad `before` (`invalid_cursor`) or `limit`"}},
)
async def list_earlier(
    conversation_id: str,
    service: ConversationsDep,
    earlier: EarlierDep,
    caller: ChannelCallerDep,
    before: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="`next_cursor` of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="Conversations per page.")] = PAGE_DEFAULT,
) -> EarlierPage:
    """The same customer's earlier conversations on every channel, newest first: one history.

    Whoever may read this conversation's messages may read these. Each comes with its channel, when
    it started and ended, its state and its messages as stored (masked; images with the text read
    from them, voice messages with their transcript). A visitor's conversation (no `customer_ref`)
    has none. Only conversations still held are listed (not removed by retention or erasure).
    Pages: `next_cursor` → `before`. A bad cursor is 422 `invalid_cursor`, a bad `limit` 422
    `invalid_request`.
    """
    await anyio.to_thread.run_sync(service.check_access, conversation_id, caller)
    return await earlier.page(conversation_id, before=before, limit=limit)


@router.post("/{conversation_id}/handoff", response_model=HandoffRequested)
async def request_person(
    conversation_id: str, conversations: ConversationsDep, caller: ChannelCallerDep
) -> HandoffRequested:
    """The customer asks for a person at any time (the chat's "talk to a person" button).

    The conversation joins the general queue with everything said so far; asking again while
    waiting or talking to a person changes nothing.
    """
    await anyio.to_thread.run_sync(conversations.check_access, conversation_id, caller)
    state = await conversations.request_person(conversation_id)
    return HandoffRequested(state=state)


@router.post("/{conversation_id}/rating", status_code=status.HTTP_201_CREATED, response_model=RatingOut)
async def rate_conversation(
    conversation_id: str,
    body: RatingCreate,
    conversations: ConversationsDep,
    ratings: RatingsDep,
    caller: ChannelCallerDep,
) -> RatingOut:
    """The customer rates the conversation (CSAT): `score` 1-5 and an optional `comment`.

    One rating per conversation: a second one is refused (409 `already_rated`) and the first stays.
    A bad score is 422 `invalid_score`, a comment over 1000 characters 422 `comment_too_long`.
    Taken while the conversation is open and for 7 days after it closed (409 `rating_closed` after
    that), once the customer has written (409 `nothing_to_rate` before). The comment is stored
    masked, with the NLU's reading of it (intent, emotion, risk, entities).
    """
    await anyio.to_thread.run_sync(conversations.check_access, conversation_id, caller)
    return await ratings.rate(conversation_id, body.score, body.comment)


@router.get("/{conversation_id}/rating", response_model=RatingStatus)
async def get_rating(
    conversation_id: str, conversations: ConversationsDep, ratings: RatingsDep, caller: ChannelCallerDep
) -> RatingStatus:
    """The conversation's rating, whether one would be taken now, and whether to offer it now (the
    conversation closed, or the customer's last message said they are done)."""
    await anyio.to_thread.run_sync(conversations.check_access, conversation_id, caller)
    return await ratings.status(conversation_id)
