"""A customer message and the bot's turn that answers it: one straight path.

1. Store (one transaction): the message is checked, masked and stored with the next sequence
   number and its event, and *committed before anything else*, so an acknowledged message survives
   a crash. A repeated `client_message_id` finds the original message instead. In the same
   transaction the turn is claimed (the conversation row holds which message is being answered, and
   until when) and its context is read once: the dialogue state, who the customer is, their open
   issues, the incidents active now (`helixdesk.conversations.turn_context`). One turn of a conversation runs at a time, across every worker.
2. Understand: the NLU parses the message on its own thread, batched with other requests.
3. Decide and act: the bot decides, the executor runs each effect it asks for exactly once, the
   NLG words the replies (`helixdesk.dialogue.bot`).
4. Store the turn (one transaction, `helixdesk.conversations.turn_record`): the new dialogue
   state, the NLU record, the replies, the issue changes, the incidents explained, the audit of
   each action, a handover to a person, their events, and the claim released. Nothing is retried: a second message of the same conversation waits for the claim.

If the turn fails after the claim, the claim is released and the customer's message stays stored
without an answer; sending it again (the same `client_message_id`) answers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

import anyio
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.connector import BankConnector
from helixdesk.conversations.image_turn import ImagePart, with_image
from helixdesk.conversations.models import Conversation, ConversationState, Message, Sender
from helixdesk.conversations.originals import Enclosure
from helixdesk.conversations.ports import Handovers, RelayPoke
from helixdesk.conversations.schemas import MessagePostResult, Reply
from helixdesk.conversations.store import message_data
from helixdesk.conversations.turn_context import Claimed, read_claimed, turn_context
from helixdesk.conversations.turn_record import Stored, TurnRecorder
from helixdesk.conversations.writer import ConversationWriter, LockedConversation, NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.events import MessageData
from helixdesk.core.turn import Emotion, Turn
from helixdesk.db.session import reading, transaction
from helixdesk.dialogue.bot import Bot
from helixdesk.dialogue.state import CODE, DialogueState, load_state
from helixdesk.identity import VerificationService
from helixdesk.nlu.batcher import Parser

log = logging.getLogger(__name__)


class Turns:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        writer: ConversationWriter,
        bot: Bot,
        nlu: Parser,
        bank: BankConnector,
        identity: VerificationService,
        handovers: Handovers,
        relay: RelayPoke | None = None,
        abandon_issue_after_days: int = 30,
        lease_seconds: float = 30.0,
        tz: tzinfo | None = None,
        charge_intent: str = "unrecognized_transaction",
        image_keeps_intents: frozenset[str] = frozenset({"dispute_charge", "human_agent"}),
    ) -> None:
        # An image of a charge is this intent unless its caption asks one of `image_keeps_intents`.
        self._charge_intent = charge_intent
        self._image_keeps = image_keeps_intents
        self._sessions = sessions
        # The bank's time zone: the customer's "today" and "this month" are read in it.
        self._tz = tz
        self._writer = writer
        self._bot = bot
        self._nlu = nlu
        self._bank = bank
        self._identity = identity
        self._handovers = handovers
        self._recorder = TurnRecorder(sessions=sessions, writer=writer, bot=bot, handovers=handovers)
        self._relay = relay
        self._abandon_after = abandon_issue_after_days
        self._lease = timedelta(seconds=lease_seconds)
        # Waiters for a turn of a conversation to end in this process (other processes are polled).
        self._ended: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._waiting: dict[str, int] = defaultdict(int)

    async def post(
        self,
        conversation_id: str,
        text: str,
        *,
        client_message_id: str | None,
        now: datetime | None,
        image: ImagePart | None = None,
        voice: Enclosure | None = None,
    ) -> MessagePostResult:
        """The customer's message and the bot's answer. `image`: an image sent with it (its caption is
        `text`); `voice`: the recording it was said in (`text` is its transcript)."""
        at = now or utcnow()
        enclosure = image.enclosure if image is not None else voice
        stored = await anyio.to_thread.run_sync(
            self._store, conversation_id, text, client_message_id, at, enclosure
        )
        self._poke()
        while stored.context is None:
            if stored.duplicate and stored.replies:
                return _result(stored, stored.replies, stored.reply_meta)
            if stored.state != ConversationState.BOT.value:
                return _result(stored, (), ())
            # Another turn of this conversation is being answered: wait for it, then claim.
            await self._wait_for_turn(conversation_id)
            stored = await anyio.to_thread.run_sync(self._claim_again, stored, at)
        try:
            local = at.astimezone(self._tz) if self._tz is not None else at
            if image is not None and not text.strip():
                # An image without words: nothing for the text models; the image's fields lead.
                turn = Turn(text=text, normalized=text, reference_time=local)
            else:
                turn = await self._nlu.parse(
                    text, reference_time=local, previous_emotion=previous_emotion(stored.context.dialogue)
                )
            if image is not None:
                turn = with_image(turn, image, charge_intent=self._charge_intent, keeps=self._image_keeps)
            replies, meta, handoff = await anyio.to_thread.run_sync(self._answer, stored, turn, at)
        except BaseException:
            with contextlib.suppress(Exception):
                await anyio.to_thread.run_sync(self._release, conversation_id, stored.message.id)
            raise
        finally:
            self._turn_ended(conversation_id)
        self._poke()
        return _result(stored, replies, meta, handoff=handoff)

    # ---- 1. store and claim ---------------------------------------------------------------------

    def _store(
        self,
        conversation_id: str,
        text: str,
        client_message_id: str | None,
        now: datetime,
        enclosure: Enclosure | None = None,
    ) -> Stored:
        masked = self._writer.privacy.mask(text)  # before the transaction (see `TurnRecorder.store`)
        extra = {"kind": enclosure.kind, enclosure.kind: enclosure.meta} if enclosure is not None else None
        try:
            with transaction(self._sessions) as s:
                conv = self._writer.lock_row(s, conversation_id)
                dialogue = load_state(s, conversation_id)
                waiting_for_code = dialogue.task is not None and dialogue.task.awaiting == CODE
                # A repeated client_message_id fails the insert (a unique key) and is answered below.
                appended = self._writer.append(
                    s,
                    conv,
                    NewMessage(
                        sender=Sender.CUSTOMER,
                        text=text,
                        client_message_id=client_message_id,
                        expect_code=waiting_for_code,
                        masked=None if waiting_for_code else masked,
                        meta=dict(extra or {}),
                    ),
                )
                if enclosure is not None:
                    s.execute(
                        insert(enclosure.table).values(
                            **enclosure.row, message_id=appended.message.id, conversation_id=conv.id
                        )
                    )
                claimed = self._claim(s, conv, appended.message.id, dialogue, now)
                self._writer.save_row(s, conv)
                return Stored(
                    appended.message,
                    conv.state,
                    duplicate=False,
                    masked=appended.masked,
                    context=claimed,
                    extra_meta=extra,
                )
        except IntegrityError:
            # The same client_message_id was stored before (a retry), or by a concurrent request.
            if client_message_id is None:
                raise
            with transaction(self._sessions) as s:
                conv = self._writer.lock_row(s, conversation_id)
                existing = self._existing(s, conv, client_message_id, now)
                if existing is None:
                    raise
                self._writer.save_row(s, conv)
                return existing

    def _existing(
        self, s: Session, conv: LockedConversation, client_message_id: str, now: datetime
    ) -> Stored | None:
        msg = s.scalar(
            select(Message).where(
                Message.conversation_id == conv.id, Message.client_message_id == client_message_id
            )
        )
        if msg is None:
            return None
        return self._as_stored(s, conv, msg, now)

    def _as_stored(self, s: Session, conv: LockedConversation, msg: Message, now: datetime) -> Stored:
        """A message stored earlier: its replies if it has some, else a claim to answer it now."""
        found = _stored_before(s, msg, conv.state)
        if found.replies:
            return found
        claimed = self._claim(s, conv, msg.id, load_state(s, conv.id), now)
        return replace(found, context=claimed)

    def repeated(self, conversation_id: str, client_message_id: str) -> MessagePostResult | None:
        """The result of a message stored before under `client_message_id` when nothing is left to
        do for it (answered, or a person has the conversation); None when it is new or still to be
        answered. Read without a lock: for work worth skipping on a retry (reading an image)."""
        with reading(self._sessions) as s:
            msg = s.scalar(
                select(Message).where(
                    Message.conversation_id == conversation_id, Message.client_message_id == client_message_id
                )
            )
            state = s.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
            if msg is None or state is None:
                return None
            found = _stored_before(s, msg, state)
        if not found.replies and state == ConversationState.BOT.value:
            return None
        return _result(found, found.replies, found.reply_meta)

    def _claim(
        self, s: Session, conv: LockedConversation, message_id: str, dialogue: DialogueState, now: datetime
    ) -> Claimed | None:
        """Claim the turn (the conversation row is locked) and read its context; None: it is taken."""
        if conv.state != ConversationState.BOT.value:
            return None
        clock = utcnow()  # the claim runs on the wall clock, whatever time the turn is about
        held = (
            conv.turn_message_id is not None
            and conv.turn_expires_at is not None
            and conv.turn_expires_at > clock
        )
        if held:
            return None
        conv.turn_message_id = message_id
        conv.turn_expires_at = clock + self._lease
        return read_claimed(s, conv, dialogue, now=now, abandon_after_days=self._abandon_after)

    def _claim_again(self, stored: Stored, now: datetime) -> Stored:
        with transaction(self._sessions) as s:
            conv = self._writer.lock_row(s, stored.message.conversation_id)
            msg = s.get(Message, stored.message.id)
            assert msg is not None
            found = self._as_stored(s, conv, msg, now)
            self._writer.save_row(s, conv)
        return Stored(
            stored.message,
            found.state,
            duplicate=stored.duplicate,
            masked=stored.masked,
            replies=found.replies,
            reply_meta=found.reply_meta,
            context=found.context,
            extra_meta=stored.extra_meta,
        )

    async def _wait_for_turn(self, conversation_id: str) -> None:
        """Until a turn of this conversation ends here, or a short while (it may run elsewhere)."""
        event = self._ended[conversation_id]
        self._waiting[conversation_id] += 1
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.05):
                    await event.wait()
        finally:
            self._waiting[conversation_id] -= 1
            if self._waiting[conversation_id] <= 0:
                self._waiting.pop(conversation_id, None)
                self._ended.pop(conversation_id, None)

    def _turn_ended(self, conversation_id: str) -> None:
        event = self._ended.get(conversation_id)
        if event is not None:
            event.set()
            self._ended.pop(conversation_id, None)

    def _release(self, conversation_id: str, message_id: str) -> None:
        with transaction(self._sessions) as s:
            s.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.turn_message_id == message_id)
                .values(turn_message_id=None, turn_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def _answer(
        self, stored: Stored, turn: Turn, now: datetime
    ) -> tuple[tuple[MessageData, ...], tuple[dict[str, Any], ...], dict[str, Any] | None]:
        """Steps 2-4 after understanding, on one worker thread: context, the bot's turn, storing it."""
        assert stored.context is not None
        ctx = turn_context(
            stored.context,
            conversation_id=stored.message.conversation_id,
            message_id=stored.message.id,
            bank=self._bank,
            identity=self._identity,
            now=now,
        )
        answered = self._bot.respond(ctx, turn)
        try:
            return self._recorder.store(stored, ctx, answered)
        except Exception:
            # The turn is not stored (its claim ran out, the database failed), but the actions it
            # ran did happen: their audit is kept on its own.
            if answered.effects.records:
                with transaction(self._sessions) as s:
                    self._bot.store_audit(s, answered)
            raise

    def _poke(self) -> None:
        if self._relay is not None:
            self._relay.poke()


def _stored_before(s: Session, msg: Message, state: str) -> Stored:
    """A message stored earlier, with the replies it has."""
    replies = s.scalars(select(Message).where(Message.in_reply_to == msg.id).order_by(Message.seq)).all()
    kept = {k: v for k, v in (msg.meta or {}).items() if k in ("kind", "image", "voice")}
    return Stored(
        message_data(msg),
        state,
        duplicate=True,
        replies=tuple(message_data(r) for r in replies),
        reply_meta=tuple(dict(r.meta or {}) for r in replies),
        extra_meta=kept or None,
    )


def _result(
    stored: Stored,
    replies: tuple[MessageData, ...],
    meta: tuple[dict[str, Any], ...],
    *,
    handoff: dict[str, Any] | None = None,
) -> MessagePostResult:
    out: list[Reply] = []
    for i, r in enumerate(replies):
        m = meta[i] if i < len(meta) else {}
        out.append(
            Reply.model_validate(
                {
                    "text": r.text,
                    "kind": m.get("kind", "text"),
                    "citations": m.get("citations", []),
                    "message": r,
                }
            )
        )
    state = ConversationState.WAITING_FOR_AGENT.value if handoff is not None else stored.state
    return MessagePostResult(
        message=stored.message, replies=out, state=state, handoff=handoff, duplicate=stored.duplicate
    )


def previous_emotion(dialogue: DialogueState) -> Emotion | None:
    """The emotion of the customer's previous message in this conversation (the dialogue state
    keeps each message's label and intensity), given to the NLU as context."""
    if not dialogue.emotions:
        return None
    label, intensity = dialogue.emotions[-1]
    return Emotion(label, intensity)
