"""The WeChat channel: one official account ("mp") and one WeCom app ("work").

A callback is checked (signature; in safe mode msg_signature, decryption and the app id / corp id),
then the message goes to the conversation service like any other channel's:

- text → the customer's message in the openid's open conversation (channel `wechat`), answered by
  the bot; a message's `MsgId` is its `client_message_id`, so WeChat's retries are stored and
  answered once (events have no MsgId: FromUserName + CreateTime + event);
- image → the picture is fetched (`helixdesk.channels.wechat.media`) and goes through the same
  image turn as the chat page's (`helixdesk.conversations.images`: OCR, the fields as the turn's
  entities, the original encrypted); a picture that cannot be fetched or read is stored with its
  media id and a placeholder text, and acknowledged;
- voice → the recording downloaded, transcribed and answered as a typed message, or WeChat's own
  transcript when that fails (`helixdesk.channels.wechat.voice`); voice that could not be heard
  is stored with its media id and a placeholder text, and acknowledged;
- subscribe → the welcome message; the binding menu key and "绑定" / "bind" → the binding exchange
  (`helixdesk.channels.wechat.binding`).

The answer goes back in the callback's reply (encrypted in safe mode) when it is ready within the
reply budget; otherwise the callback answers "success" at once and the answer follows through the
customer-service message API. Each message is taken for delivery once (`wechat_deliveries`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

import anyio

from helixdesk.channels.locks import KeyedLocks
from helixdesk.channels.wechat import xml as wx
from helixdesk.channels.wechat.api import WeChatApi
from helixdesk.channels.wechat.binding import Binder, CodeRequest, wants_binding
from helixdesk.channels.wechat.crypto import MessageCrypto, check_signature
from helixdesk.channels.wechat.errors import (
    WeChatApiError,
    WeChatBadXmlError,
    WeChatNotConfiguredError,
)
from helixdesk.channels.wechat.media import PictureFetcher
from helixdesk.channels.wechat.replay import ReplayGuard
from helixdesk.channels.wechat.store import Outgoing, UserView, WeChatStore
from helixdesk.channels.wechat.texts import BIND_MENU_KEY, language_of, say
from helixdesk.channels.wechat.voice import WeChatVoice
from helixdesk.conversations.errors import EmptyMessageError, MessageTooLongError
from helixdesk.conversations.images import ImageMessages
from helixdesk.conversations.models import Sender
from helixdesk.conversations.service import ConversationService
from helixdesk.ocr.errors import (
    ImageInvalidError,
    ImageTooLargeError,
    ImageTooManyPixelsError,
    OcrUnavailableError,
)

log = logging.getLogger(__name__)

ACCOUNTS = ("mp", "work")
TEXT_LIMIT = 2048  # bytes of UTF-8 in one WeChat text message (passive reply or API)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` in parts of at most `limit` UTF-8 bytes, cut at a line break where there is one."""
    parts: list[str] = []
    while len(text.encode()) > limit:
        cut = len(text.encode()[:limit].decode(errors="ignore"))
        newline = text.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts


@dataclass(frozen=True, slots=True)
class WeChatAccount:
    kind: str  # "mp" (official account) or "work" (WeCom app)
    app_id: str  # the official account's AppID or the WeCom corp id
    token: str
    crypto: MessageCrypto | None  # None: plain mode (official accounts only)
    api: WeChatApi | None  # None: no secret, so no customer-service messages


class WeChatChannel:
    def __init__(
        self,
        *,
        accounts: Mapping[str, WeChatAccount],
        store: WeChatStore,
        binder: Binder,
        conversations: ConversationService,
        reply_budget_seconds: float,
        replay: ReplayGuard | None = None,
        images: ImageMessages | None = None,
        pictures: PictureFetcher | None = None,
        voice: WeChatVoice | None = None,
    ) -> None:
        self._accounts = dict(accounts)
        self._replay = replay  # plain mode: the timestamp window and the nonces seen
        # Pictures are read with both (else they are kept unread).
        self._images = images
        self._pictures = pictures
        self._voice = voice
        self._store = store
        self._binder = binder
        self._conversations = conversations
        self._budget = reply_budget_seconds
        # One message of an openid at a time in this process (a retry waits for the first to end).
        self._locks = KeyedLocks()
        self._background: set[asyncio.Task[None]] = set()

    def account(self, kind: str) -> WeChatAccount:
        account = self._accounts.get(kind)
        if account is None:
            raise WeChatNotConfiguredError(
                f"no WeChat {'official account' if kind == 'mp' else 'WeCom app'} is configured"
            )
        return account

    @property
    def configured(self) -> tuple[str, ...]:
        return tuple(self._accounts)

    @property
    def store(self) -> WeChatStore:
        return self._store

    @property
    def accounts(self) -> dict[str, WeChatAccount]:
        return dict(self._accounts)

    # ---- the URL check --------------------------------------------------------------------------

    def echo(self, kind: str, query: Mapping[str, str]) -> str:
        """WeChat's check of the callback URL: the echostr back (WeCom: decrypted) when signed."""
        account = self.account(kind)
        timestamp, nonce, echostr = (query.get(k, "") for k in ("timestamp", "nonce", "echostr"))
        if not echostr:
            raise WeChatBadXmlError("the URL check lacks echostr")
        if kind == "work":
            assert account.crypto is not None
            account.crypto.check(query.get("msg_signature", ""), timestamp, nonce, echostr)
            return account.crypto.decrypt(echostr)
        check_signature(query.get("signature", ""), account.token, timestamp, nonce)
        return echostr

    # ---- a callback -----------------------------------------------------------------------------

    async def receive(self, kind: str, query: Mapping[str, str], body: bytes) -> str:
        """Check and handle one callback; the response body ("success" or the reply's XML)."""
        account = self.account(kind)
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        fields = wx.parse(body)
        if account.crypto is not None:
            if "Encrypt" not in fields:
                raise WeChatBadXmlError("this account is in safe mode: the message must be encrypted")
            account.crypto.check(query.get("msg_signature", ""), timestamp, nonce, fields["Encrypt"])
            fields = wx.parse(account.crypto.decrypt(fields["Encrypt"]))
        else:
            check_signature(query.get("signature", ""), account.token, timestamp, nonce)
            if self._replay is not None:
                await self._replay.check(kind, timestamp, nonce, body)
        message = wx.incoming(fields)
        task = asyncio.create_task(self._handle(account, message))
        try:
            done = (
                await asyncio.wait_for(asyncio.shield(task), timeout=self._budget)
                if self._budget > 0
                else None
            )
        except TimeoutError:
            done = None
        too_long = done is not None and len("\n\n".join(o.text for o in done[1]).encode()) > TEXT_LIMIT
        if done is None or (too_long and account.api is not None):
            # Late, or longer than one WeChat message: through the API (split as it must be).
            self._later(account, message, task)
            return "success"
        said = await anyio.to_thread.run_sync(self._take_passive, done)
        if not said:
            return "success"
        reply = wx.text_reply(
            to_user=message.from_user,
            from_user=message.to_user,
            create_time=int(time.time()),
            content=split_text("\n\n".join(o.text for o in said))[0],  # no API: the first part
        )
        if account.crypto is None:
            return reply
        encrypted = account.crypto.encrypt(reply)
        ts, reply_nonce = str(int(time.time())), secrets.token_hex(8)
        return wx.envelope(
            encrypted=encrypted,
            signature=account.crypto.msg_signature(ts, reply_nonce, encrypted),
            timestamp=ts,
            nonce=reply_nonce,
        )

    def _take_passive(self, said: tuple[str, list[Outgoing]]) -> list[Outgoing]:
        conversation_id, out = said
        kept: list[Outgoing] = []
        for o in out:
            before = (
                None if o.message_id is None else self._store.take(o.message_id, conversation_id, "passive")
            )
            # A retry of a callback whose reply WeChat never got says it again; an answer that went
            # out through the API is not repeated.
            if before in (None, "passive"):
                kept.append(o)
        return kept

    def _later(
        self, account: WeChatAccount, message: wx.Incoming, task: asyncio.Task[tuple[str, list[Outgoing]]]
    ) -> None:
        async def deliver() -> None:
            try:
                conversation_id, out = await task
            except Exception:
                log.exception("a WeChat message could not be answered")
                return
            await anyio.to_thread.run_sync(self._send_api, account, message.from_user, conversation_id, out)

        background = asyncio.create_task(deliver())
        self._background.add(background)
        background.add_done_callback(self._background.discard)

    def _send_api(
        self, account: WeChatAccount, to_user: str, conversation_id: str, out: list[Outgoing]
    ) -> None:
        if account.api is None:
            log.warning("a late WeChat answer was not sent: the account has no secret for the API")
            return
        for o in out:
            if (
                o.message_id is not None
                and self._store.take(o.message_id, conversation_id, "api") is not None
            ):
                continue
            try:
                for part in split_text(o.text):
                    account.api.send_text(to_user, part)
            except WeChatApiError:
                if o.message_id is not None:
                    self._store.release(o.message_id)
                log.warning("a WeChat answer could not be sent through the customer-service API")

    def _send_code_after(self, request: CodeRequest | None) -> None:
        """A binding's one-time code goes out beside the answer, not before it: the answer's
        timing does not tell whether the number is the bank's."""
        if request is None:
            return

        async def send() -> None:
            try:
                await anyio.to_thread.run_sync(self._binder.send_code, request)
            except Exception:
                log.exception("a WeChat binding code could not be sent")

        task = asyncio.create_task(send())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Wait for answers still being sent (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        """At shutdown: the answers still being sent go out, then the nonce memory is closed."""
        await self.settle()
        if self._replay is not None:
            await self._replay.close()

    # ---- handling -------------------------------------------------------------------------------

    async def _handle(self, account: WeChatAccount, m: wx.Incoming) -> tuple[str, list[Outgoing]]:
        async with self._locks.hold(f"{account.kind}:{m.from_user}"):
            user, conversation_id = await self._conversation(account, m.from_user)
            key = m.dedup_key
            if m.msg_type == "text":
                language = language_of(m.content)
                if wants_binding(user, m.content):
                    turned = await anyio.to_thread.run_sync(
                        self._binder.turn, user, conversation_id, m.content, key, language
                    )
                    if turned.bound is not None:
                        await self._new_conversation(
                            user, conversation_id, turned.bound.customer_ref, language
                        )
                    self._send_code_after(turned.send_code)
                    return conversation_id, turned.out
                try:
                    result = await self._conversations.post_customer_message(
                        conversation_id, m.content, client_message_id=key
                    )
                except (MessageTooLongError, EmptyMessageError):
                    return conversation_id, [Outgoing(None, say("too_long", language))]
                return conversation_id, [Outgoing(r.message.id, r.text) for r in result.replies]
            if m.msg_type == "image" and self._images is not None and self._pictures is not None:
                return conversation_id, await self._image(account, conversation_id, m)
            if m.msg_type == "voice" and self._voice is not None:
                try:
                    heard = await self._voice.answer(account.api, m, conversation_id)
                except (MessageTooLongError, EmptyMessageError):
                    return conversation_id, [Outgoing(None, say("too_long", None))]
                if heard is not None:
                    return conversation_id, heard
            if m.msg_type in ("image", "voice"):
                return conversation_id, await self._placeholder(conversation_id, m)
            if m.msg_type == "event":
                return conversation_id, await self._event(user, conversation_id, m)
            return conversation_id, []

    async def _image(self, account: WeChatAccount, conversation_id: str, m: wx.Incoming) -> list[Outgoing]:
        """A picture: fetched and read like an image sent on the chat page, within the same reply
        budget (a slow read is answered through the API). A retry is answered from what was stored,
        without fetching the picture again."""
        images, pictures = self._images, self._pictures
        assert images is not None and pictures is not None
        repeated = await images.repeated(conversation_id, m.dedup_key)
        if repeated is None:
            try:
                data = await anyio.to_thread.run_sync(
                    lambda: pictures.fetch(account.api, media_id=m.media_id, pic_url=m.pic_url)
                )
                repeated = await images.post_image(
                    conversation_id,
                    data,
                    client_message_id=m.dedup_key,
                    source={"channel": "wechat", "media_id": m.media_id},
                )
            except (WeChatApiError, ImageInvalidError, ImageTooLargeError, ImageTooManyPixelsError) as e:
                log.warning("a WeChat picture was kept unread: %s", e.code)
                return await self._placeholder(conversation_id, m)
            except OcrUnavailableError:
                log.warning("a WeChat picture was kept unread: this server has no OCR")
                return await self._placeholder(conversation_id, m)
        return [Outgoing(r.message.id, r.text) for r in repeated.replies]

    async def _placeholder(self, conversation_id: str, m: wx.Incoming) -> list[Outgoing]:
        """A picture or voice message kept unread: its media id and a placeholder, acknowledged."""
        placeholder = "[图片]" if m.msg_type == "image" else "[语音]"
        media = {"type": m.msg_type, "media_id": m.media_id, "pic_url": m.pic_url, "format": m.format}
        out, _ = await anyio.to_thread.run_sync(
            lambda: self._store.store_with_ack(
                conversation_id,
                sender=Sender.CUSTOMER,
                text=placeholder,
                meta={"wechat": media},
                client_message_id=m.dedup_key,
                ack=say(m.msg_type, None),
            )
        )
        return out

    async def _event(self, user: UserView, conversation_id: str, m: wx.Incoming) -> list[Outgoing]:
        if m.event == "click" and m.event_key == BIND_MENU_KEY:
            turned = await anyio.to_thread.run_sync(
                self._binder.turn, user, conversation_id, "绑定", m.dedup_key, "zh-Hans"
            )
            return turned.out  # the menu only starts the exchange: nothing is bound, no code sent
        ack = say("welcome", None) if m.event == "subscribe" else None
        out, _ = await anyio.to_thread.run_sync(
            lambda: self._store.store_with_ack(
                conversation_id,
                sender=Sender.SYSTEM,
                text=f"[{m.event or 'event'}]",
                meta={"wechat": {"type": "event", "event": m.event, "key": m.event_key}},
                client_message_id=m.dedup_key,
                ack=ack,
            )
        )
        return out

    async def _conversation(self, account: WeChatAccount, openid: str) -> tuple[UserView, str]:
        """The openid's open conversation (started on first contact, or when the last one closed)."""
        user = await anyio.to_thread.run_sync(self._store.user, account.kind, openid)
        if user.conversation_id is not None and user.conversation_open:
            return user, user.conversation_id
        conv = await self._conversations.create_conversation(channel="wechat", customer_ref=user.customer_ref)
        await anyio.to_thread.run_sync(self._store.set_conversation, user.id, user.conversation_id, conv.id)
        user = await anyio.to_thread.run_sync(self._store.user, account.kind, openid)
        assert user.conversation_id is not None
        return user, user.conversation_id

    async def _new_conversation(
        self, user: UserView, old: str, customer_ref: str | None, language: str
    ) -> None:
        """Once bound, the openid's next messages go to a conversation of the bank customer (once
        unbound, of an anonymous visitor)."""
        conv = await self._conversations.create_conversation(
            channel="wechat", customer_ref=customer_ref, language=language
        )
        await anyio.to_thread.run_sync(self._store.set_conversation, user.id, old, conv.id)
