"""WebSocket `/api/v1/conversations/{id}/ws`: live chat that resumes without losing anything.

Frames from the client:
  {"type": "message", "text": "...", "client_message_id": "..."}   send a message
  {"type": "resume", "after_seq": N}                               replay everything after N
  {"type": "ping"}
Frames to the client:
  {"type": "message", "message": {...}}    every message of the conversation, in seq order, once each
  {"type": "ack", "client_message_id": ..., "seq": N, "duplicate": bool}
  {"type": "state", "state": "..."}        the conversation changed hands
  {"type": "error", "error": {"code": ..., "message": ...}}
  {"type": "pong"}
On connect, `?after_seq=N` replays the messages after N (0 replays all), then streams new ones.
A live message that skips sequence numbers (an event lost on the way) makes the socket re-read the
missing messages from the database first, so the customer sees every message once, in order.
Credentials: the conversation's token as `?token=` (browsers cannot set headers on a WebSocket),
or a channel's `X-Api-Key` header. Close codes: 4401 no or bad credentials, 4403 credentials that
do not open this conversation or a browser page from another origin (not this host, not in
`cors_origins`), 4404 unknown conversation, 4429 over the per-IP connection rate or over the caps
on open sockets (`ws_max_per_ip`, `ws_max_per_conversation`). The socket is accepted first and then
closed with the code, so a client can read it. Credentials are checked again every few seconds and
before each message is stored: a revoked API key or a conversation that is no longer the caller's
closes the socket (4401 or 4403) and stores nothing more. Frames are limited in size
(`max_request_bytes`) and rate (`rate_limit_ws_frames_per_minute`); message frames count against
the conversation's message limit too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from helixdesk.abuse import AbuseLimits
from helixdesk.auth.apikeys import ChannelCaller
from helixdesk.auth.errors import AuthRequiredError
from helixdesk.conversations.schemas import MessageCreate
from helixdesk.conversations.service import ConversationService
from helixdesk.core.errors import AppError, NotFoundError, RateLimitedError
from helixdesk.core.events import (
    ConversationStateChanged,
    Event,
    MessageData,
    MessageReceived,
    MessageSent,
    ReplySent,
)
from helixdesk.core.inputs import INVALID_CHARACTERS
from helixdesk.core.settings import Settings
from helixdesk.edge.container import Container
from helixdesk.edge.live import LiveHub

log = logging.getLogger(__name__)

router = APIRouter()

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429
RECHECK_SECONDS = 5.0  # how soon a revoked credential's open socket is closed
MAX_SEQ = 2**31 - 1  # the largest sequence number a client may name (as in the REST API)


class ChatSocket:
    """One customer connection: on_connect, on_receive, on_disconnect; cleanup in `finally`."""

    def __init__(
        self,
        websocket: WebSocket,
        conversation_id: str,
        *,
        conversations: ConversationService,
        live: LiveHub,
        limits: AbuseLimits,
        settings: Settings,
    ) -> None:
        self.ws = websocket
        self.conversations = conversations
        self.live = live
        self.limits = limits
        self.settings = settings
        self.conversation_id = conversation_id
        self.sent: set[int] = set()
        self.queue: asyncio.Queue[Event] | None = None
        self._send_lock = asyncio.Lock()
        self.connection_id = uuid.uuid4().hex
        self.max_frame_bytes = settings.max_request_bytes
        self._revoked: tuple[int, str] | None = None
        self._authorise: Callable[[], ChannelCaller | None] = lambda: None

    async def run(self, after_seq: int, authorise: Callable[[], ChannelCaller | None]) -> None:
        self._authorise = authorise
        # Accepted first, so that a refusal reaches the client as a documented close code
        # (4401, 4403, 4404) instead of a bare HTTP 403 on the handshake.
        await self.ws.accept()
        if not origin_allowed(self.ws.headers.get("origin"), self.ws.headers.get("host"), self.settings):
            await self.ws.close(code=CLOSE_FORBIDDEN, reason="origin not allowed")
            return
        refused = await self._refusal(first=True)
        if refused is not None:
            await self.ws.close(code=refused[0], reason=refused[1])
            return
        ip = self.ws.client.host if self.ws.client else None
        too_many = self.limits.open_socket(ip, self.conversation_id)
        if too_many is not None:
            await self.ws.close(code=CLOSE_TOO_MANY, reason=too_many[:120])
            return
        try:
            await self._serve(after_seq)
        finally:
            self.limits.close_socket(ip, self.conversation_id)

    async def _serve(self, after_seq: int) -> None:
        # Listen before replaying so nothing published during the replay is missed.
        self.queue = self.live.listen(self.conversation_id)
        pump = asyncio.create_task(self._pump())
        watch = asyncio.create_task(self._watch())
        try:
            await self.on_connect(after_seq)
            while self._revoked is None:
                raw = await self.ws.receive_text()
                await self.on_receive(raw)
        except WebSocketDisconnect:
            pass
        finally:
            for task in (pump, watch):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task
            self.on_disconnect()

    async def _refusal(self, *, first: bool = False) -> tuple[int, str] | None:
        """Why this connection may not (or no longer) use the conversation: (close code, reason)."""
        caller = await anyio.to_thread.run_sync(self._authorise)
        if caller is None:
            return CLOSE_UNAUTHORIZED, "the API key is not valid"
        try:
            await anyio.to_thread.run_sync(self.conversations.check_access, self.conversation_id, caller)
            if first:
                await self.conversations.get_conversation(self.conversation_id)
        except NotFoundError:
            return CLOSE_NOT_FOUND, "conversation not found"
        except AuthRequiredError as e:
            return CLOSE_UNAUTHORIZED, e.detail[:120]
        except AppError as e:
            return CLOSE_FORBIDDEN, e.detail[:120]
        return None

    async def _watch(self) -> None:
        """Close the socket soon after its credential is revoked (an API key, the conversation)."""
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            refused = await self._refusal()
            if refused is not None:
                self._revoked = refused
                await self.ws.close(code=refused[0], reason=refused[1])
                return

    async def on_connect(self, after_seq: int) -> None:
        await self._replay(after_seq)

    async def on_receive(self, raw: str) -> None:
        try:
            self.limits.check_frame(self.connection_id)
        except RateLimitedError as e:
            await self._error(e.code, e.detail, retry_after=e.retry_after)
            return
        if len(raw.encode()) > self.max_frame_bytes:
            await self._error("payload_too_large", f"frames are limited to {self.max_frame_bytes} bytes")
            return
        try:
            frame = json.loads(raw)
        except json.JSONDecodeError:
            await self._error("invalid_frame", "frames must be JSON objects")
            return
        if not isinstance(frame, dict):
            await self._error("invalid_frame", "frames must be JSON objects")
            return
        kind = frame.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "resume":
            after = frame.get("after_seq", 0)
            if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_SEQ:
                await self._error("invalid_frame", f"after_seq must be an integer from 0 to {MAX_SEQ}")
                return
            await self._replay(after)
        elif kind == "message":
            await self._customer_message(frame)
        else:
            await self._error("invalid_frame", "type must be one of: message, resume, ping")

    def on_disconnect(self) -> None:
        self.limits.forget_connection(self.connection_id)
        if self.queue is not None:
            self.live.unlisten(self.conversation_id, self.queue)

    async def _customer_message(self, frame: dict[str, Any]) -> None:
        try:
            body = MessageCreate.model_validate({k: v for k, v in frame.items() if k != "type"})
        except ValidationError as e:
            errors = e.errors()
            code = (
                INVALID_CHARACTERS
                if any(x["type"] == INVALID_CHARACTERS for x in errors)
                else "invalid_request"
            )
            await self._error(code, "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in errors))
            return
        # The credential may have been revoked since the last check: nothing is stored then.
        refused = self._revoked or await self._refusal()
        if refused is not None:
            self._revoked = refused
            await self.ws.close(code=refused[0], reason=refused[1])
            return
        try:
            await self.limits.check_message(self.conversation_id)
        except RateLimitedError as e:
            await self._error(e.code, e.detail, retry_after=e.retry_after)
            return
        try:
            result = await self.conversations.post_customer_message(
                self.conversation_id, body.text, client_message_id=body.client_message_id
            )
        except AppError as e:
            await self._error(e.code, e.detail)
            return
        await self._send(
            {
                "type": "ack",
                "client_message_id": body.client_message_id,
                "seq": result.message.seq,
                "duplicate": result.duplicate,
            }
        )
        # The events normally deliver these; sending them here too (deduplicated by seq) means the
        # customer sees the reply even if the bus is slow or down.
        for message in [result.message, *(r.message for r in result.replies)]:
            await self._deliver(message)

    async def _replay(self, after_seq: int) -> None:
        limit = self.settings.ws_history_limit
        messages = await self.conversations.list_messages(
            self.conversation_id, after_seq=after_seq, limit=limit
        )
        for message in messages:
            await self._deliver(message)

    async def _pump(self) -> None:
        assert self.queue is not None
        while True:
            event = await self.queue.get()
            if isinstance(event, MessageReceived | ReplySent | MessageSent):
                newest = max(self.sent, default=0)
                if event.message.seq > newest + 1 and self.sent:
                    await self._replay(newest)  # something was missed: catch up from the database
                await self._deliver(event.message)
            elif isinstance(event, ConversationStateChanged):
                await self._send({"type": "state", "state": event.new_state})

    async def _deliver(self, message: MessageData) -> None:
        async with self._send_lock:
            if message.seq in self.sent:
                return
            self.sent.add(message.seq)
            payload = {"type": "message", "message": message.model_dump(mode="json")}
            await self.ws.send_text(json.dumps(payload, ensure_ascii=False))

    async def _send(self, payload: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(payload, ensure_ascii=False))

    async def _error(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        error: dict[str, Any] = {"code": code, "message": message}
        if retry_after is not None:
            error["retry_after"] = retry_after
        await self._send({"type": "error", "error": error})


def origin_allowed(origin: str | None, host: str | None, settings: Settings) -> bool:
    """Non-browser clients send no Origin; a browser page must come from this host or `cors_origins`."""
    if origin is None:
        return True
    if origin in settings.cors_origins:
        return True
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()


@router.websocket("/api/v1/conversations/{conversation_id}/ws")
async def conversation_socket(
    websocket: WebSocket, conversation_id: str, after_seq: int = 0, token: str | None = None
) -> None:
    container: Container = websocket.app.state.container
    raw_key = websocket.headers.get("x-api-key")
    token = token or websocket.headers.get("x-conversation-token")
    ip = websocket.client.host if websocket.client else None

    def authorise() -> ChannelCaller | None:
        """The caller as things stand now (an API key can be revoked while the socket is open)."""
        try:
            key = container.api_keys.verify(raw_key) if raw_key else None
        except AppError:
            return None
        return ChannelCaller(api_key=key, token=token, ip=ip)

    socket = ChatSocket(
        websocket,
        conversation_id,
        conversations=container.conversations,
        live=container.live,
        limits=container.limits,
        settings=container.settings,
    )
    # Past the newest message there is nothing to replay, however large the number.
    await socket.run(min(max(after_seq, 0), MAX_SEQ), authorise)
