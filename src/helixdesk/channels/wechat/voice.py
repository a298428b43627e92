"""WeChat voice messages, heard and answered as if typed.

WeChat sends a voice message as a media id (an AMR or Speex recording kept on its servers for three
days) and, when the account has WeChat's speech recognition on, its own transcript (`Recognition`).
The recording is downloaded through the account's API (`media/get`, the configurable API base),
transcribed by the server's own recogniser and answered through the same turn as a typed message
(`helixdesk.conversations.voice`): the recording is kept encrypted, the transcript is the message.

WeChat's `Recognition` is used only when that fails (no API secret, the download or the decoding
fails, nothing could be made out): then it is posted as the customer's text. Without either, the
caller stores the placeholder and asks the customer to type (`None`).

A retried MsgId finds what was said to the first (`WeChatStore.seen`) before anything is downloaded.
"""

from __future__ import annotations

import logging

import anyio

from helixdesk.channels.wechat import xml as wx
from helixdesk.channels.wechat.api import WeChatApi
from helixdesk.channels.wechat.errors import WeChatApiError
from helixdesk.channels.wechat.store import Outgoing, WeChatStore
from helixdesk.conversations.schemas import MessagePostResult
from helixdesk.conversations.service import ConversationService
from helixdesk.conversations.voice import VoiceMessages
from helixdesk.speech.errors import (
    AudioTooLargeError,
    AudioTooLongError,
    AudioUnreadableError,
    NoSpeechError,
    SpeechUnavailableError,
)

log = logging.getLogger(__name__)

# What makes the recording unusable, so that WeChat's own transcript is tried instead.
UNHEARD = (
    WeChatApiError,
    AudioUnreadableError,
    AudioTooLargeError,
    AudioTooLongError,
    NoSpeechError,
    SpeechUnavailableError,
)


class WeChatVoice:
    def __init__(
        self, *, voice: VoiceMessages, conversations: ConversationService, store: WeChatStore
    ) -> None:
        self._voice = voice
        self._conversations = conversations
        self._store = store

    async def answer(
        self, api: WeChatApi | None, m: wx.Incoming, conversation_id: str
    ) -> list[Outgoing] | None:
        """The answer to a voice message; None when neither the recording nor WeChat's transcript
        could be used."""
        key = m.dedup_key
        seen = await anyio.to_thread.run_sync(self._store.seen, conversation_id, key)
        if seen is not None:
            return seen
        result = await self._heard(api, m, conversation_id)
        if result is None and m.recognition.strip():
            result = await self._conversations.post_customer_message(
                conversation_id, m.recognition.strip(), client_message_id=key
            )
        if result is None:
            return None
        return [Outgoing(r.message.id, r.text) for r in result.replies]

    async def _heard(
        self, api: WeChatApi | None, m: wx.Incoming, conversation_id: str
    ) -> MessagePostResult | None:
        if api is None or not m.media_id:
            return None
        try:
            data = await anyio.to_thread.run_sync(
                lambda: api.media(m.media_id, max_bytes=self._voice.max_bytes)
            )
            return await self._voice.post_voice(
                conversation_id,
                data,
                client_message_id=m.dedup_key,
                channel_meta={"wechat_media_id": m.media_id, "wechat_format": m.format},
            )
        except UNHEARD as e:
            log.warning("a WeChat voice message was not transcribed: %s: %s", type(e).__name__, e)
            return None
