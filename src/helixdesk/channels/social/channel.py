"""The social channel: one webhook per configured platform (`/channels/social/{platform}`).

A request is checked (its HMAC signature and, when the platform sends one, its timestamp), read
through the platform's mapping (all of it, before anything is stored), and then:

- a **direct message** goes to its author's open conversation on the `social` channel (started on
  first contact, or when the last one closed) and is answered by the bot like any other channel's
  message; the platform's event id is its `client_message_id`, so a replayed event is stored and
  answered once. The bot's replies, like agents' messages later, go out through the platform's
  outbound URL (`helixdesk.channels.social.outbound`);
- a **public comment** becomes a feedback item (source `social`, the platform as its channel), read
  by the NLU and masked, imported once per event id. No conversation, and nothing of its author, is
  kept.

Authors stay anonymous visitors; each has one conversation at a time (`social_authors`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import anyio

from helixdesk.channels.locks import KeyedLocks
from helixdesk.channels.social.config import Platform
from helixdesk.channels.social.errors import (
    SocialBadPayloadError,
    SocialNotConfiguredError,
    SocialPayloadMismatchError,
)
from helixdesk.channels.social.mapping import COMMENT, DIRECT_MESSAGE, SocialEvent
from helixdesk.channels.social.store import SocialStore
from helixdesk.conversations.errors import EmptyMessageError, MessageTooLongError
from helixdesk.conversations.service import ConversationService
from helixdesk.core.clock import utcnow

CHANNEL = "social"


@dataclass(frozen=True, slots=True)
class Comment:
    """A public comment, for insight (its author is not part of it)."""

    platform: str
    event_id: str
    text: str
    at: datetime
    language: str | None


# Stores comments as feedback items; returns {"added": n, "already": m}.
CommentSink = Callable[[Sequence[Comment]], Awaitable[Mapping[str, int]]]


def client_message_id(platform: str, event_id: str) -> str:
    """The message's `client_message_id`: the platform and its event id (hashed when too long)."""
    key = f"{platform}:{event_id}"
    if len(key) <= 64:
        return key
    return f"{platform}:#{hashlib.sha256(event_id.encode()).hexdigest()[:40]}"


class SocialChannel:
    def __init__(
        self,
        *,
        platforms: Mapping[str, Platform],
        store: SocialStore,
        conversations: ConversationService,
        comments: CommentSink,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._platforms = dict(platforms)
        self._store = store
        self._conversations = conversations
        self._comments = comments
        self._clock = clock
        self._locks = KeyedLocks()  # one message of an author at a time in this process

    @property
    def configured(self) -> tuple[str, ...]:
        return tuple(self._platforms)

    @property
    def store(self) -> SocialStore:
        return self._store

    def platform(self, name: str) -> Platform:
        platform = self._platforms.get(name)
        if platform is None:
            raise SocialNotConfiguredError(f"no social platform {name!r} is configured")
        return platform

    async def receive(self, name: str, headers: Mapping[str, str], body: bytes) -> dict[str, int]:
        """Check and handle one webhook request (`headers` keyed in lower case); returns counts."""
        platform = self.platform(name)
        platform.scheme.verify(platform.secret, headers, body, self._clock())
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise SocialBadPayloadError("the body must be UTF-8 JSON") from error
        events, skipped = platform.mapping.read(document)
        direct = [event for event in events if event.kind == DIRECT_MESSAGE]
        for event in direct:
            self._check_text(event)
        comments = [event for event in events if event.kind == COMMENT]
        once = _once(comments)
        counts = {
            "events": len(events) + skipped,
            "messages": 0,
            "comments": 0,
            "duplicates": len(comments) - len(once),
            "skipped": skipped,
        }
        if once:
            now = utcnow()
            stored = await self._comments(
                [Comment(name, c.event_id, c.text, min(c.created_at or now, now), c.language) for c in once]
            )
            counts["comments"] += stored["added"]
            counts["duplicates"] += stored["already"]
        for event in direct:
            repeat = await self._direct(platform.name, event)
            counts["duplicates" if repeat else "messages"] += 1
        return counts

    def _check_text(self, e: SocialEvent) -> None:
        try:
            self._conversations.check_text(e.text)
        except (MessageTooLongError, EmptyMessageError) as error:
            raise SocialPayloadMismatchError(
                f"event {e.number}: {error.detail}; nothing in this request was stored"
            ) from error

    async def _direct(self, platform: str, e: SocialEvent) -> bool:
        """Store and answer one direct message; True when it was a repeat (nothing new said)."""
        assert e.author_id is not None
        key = client_message_id(platform, e.event_id)
        async with self._locks.hold(f"{platform}:{e.author_id}"):
            conversation_id = await self._conversation(platform, e, key)
            if conversation_id is None:
                return True
            result = await self._conversations.post_customer_message(
                conversation_id, e.text, client_message_id=key
            )
            return result.duplicate

    async def _conversation(self, platform: str, e: SocialEvent, key: str) -> str | None:
        """The author's open conversation (started when there is none); None when the event is a
        repeat of one stored in the author's last conversation, closed since."""
        assert e.author_id is not None
        author = await anyio.to_thread.run_sync(
            self._store.author, platform, e.author_id, e.author_name, e.reply_to
        )
        if author.conversation_id is not None:
            if author.conversation_open:
                return author.conversation_id
            if await anyio.to_thread.run_sync(self._store.has_message, author.conversation_id, key):
                return None
        conv = await self._conversations.create_conversation(channel=CHANNEL, language=e.language)
        await anyio.to_thread.run_sync(
            self._store.set_conversation, author.id, author.conversation_id, conv.id
        )
        # Another request may have started one first: the author's conversation is whichever won.
        author = await anyio.to_thread.run_sync(self._store.author, platform, e.author_id, None, None)
        return author.conversation_id


def _once(events: list[SocialEvent]) -> list[SocialEvent]:
    """The events, each event id once (a platform may repeat one inside a batch)."""
    seen: set[str] = set()
    out = []
    for e in events:
        if e.event_id not in seen:
            seen.add(e.event_id)
            out.append(e)
    return out
