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
4. Store the turn (one transaction): the new dialogue state, the NLU record, the replies, the
   issue changes, the incidents explained, the audit of each action, a handover to a person, their events, and the claim
   released. Nothing is retried: a second message of the same conversation waits for the claim.

If the turn fails after the claim, the claim is released and the customer's message stays stored
without an answer; sending it again (the same `client_message_id`) answers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import anyio
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bank.connector import BankConnector
from helixdesk.conversations.errors import ConversationBusyError
from helixdesk.conversations.image_turn import ImagePart, with_image
from helixdesk.conversations.models import Conversation, ConversationState, Message, Sender
from helixdesk.conversations.originals import Enclosure
from helixdesk.conversations.ports import Handovers, RelayPoke
from helixdesk.conversations.schemas import MessagePostResult, Reply
from helixdesk.conversations.store import StoredMessage, message_data
from helixdesk.conversations.turn_context import Claimed, read_claimed, turn_context
from helixdesk.conversations.writer import ConversationWriter, LockedConversation, NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.events import MessageData
from helixdesk.core.languages import LANGUAGES
from helixdesk.core.turn import Emotion, Turn
from helixdesk.db.session import transaction
from helixdesk.dialogue.bot import Bot, BotTurn
from helixdesk.dialogue.context import TurnContext
from helixdesk.dialogue.effects import (
    CodeChecked,
    IncidentExplained,
    IssueRaised,
    LifecycleTouched,
    OpenIssue,
    ResolveIssue,
)
from helixdesk.dialogue.state import (
    CODE,
    DialogueState,
    StateConflictError,
    load_state,
    save_state,
    stored_form,
)
from helixdesk.identity import VerificationService
from helixdesk.incidents.register import record_explanations
from helixdesk.lifecycle.touches import record_touch
from helixdesk.memory.service import IssueOp, apply_issue_ops
from helixdesk.nlu.batcher import Parser
from helixdesk.privacy.masking import Masked

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Stored:
    """The customer's message as stored, and the turn's claim and context when this request has it."""

    message: MessageData
    state: str
    duplicate: bool
    masked: Masked | None = None  # how the stored text was masked (not for duplicates)
    replies: tuple[MessageData, ...] = ()
    reply_meta: tuple[dict[str, Any], ...] = ()
    context: Claimed | None = None
    extra_meta: dict[str, Any] | None = None  # kept on the message with its NLU record (an image, a voice)


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
    ) -> _Stored:
        masked = self._writer.privacy.mask(text)  # before the transaction (see `_store_turn`)
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
                return _Stored(
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
    ) -> _Stored | None:
        msg = s.scalar(
            select(Message).where(
                Message.conversation_id == conv.id, Message.client_message_id == client_message_id
            )
        )
        if msg is None:
            return None
        return self._as_stored(s, conv, msg, now)

    def _as_stored(self, s: Session, conv: LockedConversation, msg: Message, now: datetime) -> _Stored:
        """A message stored earlier: its replies if it has some, else a claim to answer it now."""
        replies = s.scalars(select(Message).where(Message.in_reply_to == msg.id).order_by(Message.seq)).all()
        claimed = None
        if not replies:
            claimed = self._claim(s, conv, msg.id, load_state(s, conv.id), now)
        kept = {k: v for k, v in (msg.meta or {}).items() if k in ("kind", "image", "voice")}
        return _Stored(
            message_data(msg),
            conv.state,
            duplicate=True,
            replies=tuple(message_data(r) for r in replies),
            reply_meta=tuple(dict(r.meta or {}) for r in replies),
            context=claimed,
            extra_meta=kept or None,
        )

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

    def _claim_again(self, stored: _Stored, now: datetime) -> _Stored:
        with transaction(self._sessions) as s:
            conv = self._writer.lock_row(s, stored.message.conversation_id)
            msg = s.get(Message, stored.message.id)
            assert msg is not None
            found = self._as_stored(s, conv, msg, now)
            self._writer.save_row(s, conv)
        return _Stored(
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
        self, stored: _Stored, turn: Turn, now: datetime
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
            return self._store_turn(stored, ctx, answered)
        except Exception:
            # The turn is not stored (its claim ran out, the database failed), but the actions it
            # ran did happen: their audit is kept on its own.
            if answered.effects.records:
                with transaction(self._sessions) as s:
                    self._bot.store_audit(s, answered)
            raise

    # ---- 4. store the turn ----------------------------------------------------------------------

    def _store_turn(
        self, stored: _Stored, ctx: TurnContext, answered: BotTurn
    ) -> tuple[tuple[MessageData, ...], tuple[dict[str, Any], ...], dict[str, Any] | None]:
        decision = answered.decision
        message_id = stored.message.id
        # Everything that needs no database is done before the transaction: on SQLite one writer
        # at a time holds it, so every millisecond inside it is a millisecond for every turn.
        state_data = stored_form(decision.state)
        understanding = self._writer.understanding(
            stored.message,
            answered.turn,
            stored.masked or self._writer.privacy.mask(answered.turn.text),
            redact=decision.redact_message,
        )
        if stored.extra_meta:
            understanding["meta"].update(stored.extra_meta)
        issue_ops = _issue_ops(decision.changes)
        explained = [(c.incident_id, c.version) for c in decision.changes if isinstance(c, IncidentExplained)]
        touched = [c for c in decision.changes if isinstance(c, LifecycleTouched)]
        intent = answered.turn.intent.name if answered.turn.intent else None
        metas = [_reply_meta(r) for r in answered.replies]
        replies = [
            NewMessage(
                sender=Sender.BOT,
                text=r.text,
                meta=m,
                in_reply_to=message_id,
                intent=intent,
                masked=self._writer.privacy.mask(r.text),
            )
            for r, m in zip(answered.replies, metas, strict=True)
        ]
        handover = decision.handover
        prepared: Any = None
        if handover is not None:
            verified = ctx.verified or any(
                isinstance(r, CodeChecked) and r.status == "verified"
                for r in answered.effects.results.values()
            )
            # This turn's message with its NLU record, and its replies, are not stored yet.
            first = stored.message.seq
            pending = [
                StoredMessage(
                    seq=first,
                    sender=Sender.CUSTOMER.value,
                    text=understanding.get("text", stored.message.text),
                    meta=understanding["meta"],
                ),
                *(
                    StoredMessage(
                        seq=first + 1 + i,
                        sender=Sender.BOT.value,
                        text=n.masked.text if n.masked else n.text,
                        meta=n.meta,
                    )
                    for i, n in enumerate(replies)
                ),
            ]
            prepared = self._handovers.prepare(
                ctx.conversation_id,
                handover,
                customer=ctx.customer,
                language=ctx.language or decision.language,
                verified=verified,
                now=ctx.now,
                pending=pending,
            )
        with transaction(self._sessions) as s:
            conv = self._writer.lock_row(s, ctx.conversation_id)
            if conv.turn_message_id != message_id:
                # The claim ran out while this worker stalled, and another turn took over.
                raise ConversationBusyError(
                    f"conversation {ctx.conversation_id} is busy; please send the message again"
                )
            conv.turn_message_id = None
            conv.turn_expires_at = None
            if conv.state != ConversationState.BOT.value:
                # The customer asked for a person meanwhile: the bot stays silent.
                self._writer.save_row(s, conv)
                return (), (), None
            try:
                save_state(s, conv.id, decision.state, data=state_data)
            except StateConflictError as e:
                raise ConversationBusyError(
                    f"conversation {ctx.conversation_id} is busy; please send the message again"
                ) from e
            if issue_ops:
                apply_issue_ops(
                    s, issue_ops, customer_id=conv.customer_id, conversation_id=conv.id, now=ctx.now
                )
            if explained:
                record_explanations(
                    s,
                    explained,
                    conversation_id=conv.id,
                    message_id=message_id,
                    language=decision.language,
                    at=ctx.now,
                )
            for touch in touched:
                record_touch(
                    s,
                    strategy_id=touch.strategy_id,
                    version=touch.version,
                    kind=touch.kind,
                    arm=touch.arm,
                    value=touch.value,
                    trigger=touch.trigger,
                    customer_id=conv.customer_id,
                    conversation_id=conv.id,
                    at=ctx.now,
                )
            self._writer.record_understanding(s, stored.message, understanding)
            if conv.language is None or answered.turn.language in LANGUAGES:
                # The language the customer writes in now (a code or "ok" keeps the last one).
                conv.language = decision.language
            appended = self._writer.append_all(s, conv, replies)
            self._bot.store_audit(s, answered)
            handoff: dict[str, Any] | None = None
            if handover is not None:
                self._handovers.store(s, conv, prepared)
                handoff = {
                    "queue": handover.queue,
                    "reason": handover.reason,
                    "intent": handover.intent,
                    "trigger": handover.trigger,
                }
            self._writer.save_row(s, conv)
        return tuple(a.message for a in appended), tuple(metas), handoff

    def _poke(self) -> None:
        if self._relay is not None:
            self._relay.poke()


def _issue_ops(changes: Any) -> list[IssueOp]:
    ops: list[IssueOp] = []
    for c in changes:
        if isinstance(c, OpenIssue):
            ops.append(
                IssueOp("open", topic=c.topic, intent=c.intent, action=c.action, ref=c.ref, facts=c.facts)
            )
        elif isinstance(c, ResolveIssue):
            ops.append(IssueOp("resolve", topic=c.topic, ref=c.ref, issue_id=c.issue_id))
        elif isinstance(c, IssueRaised):
            ops.append(IssueOp("raised", issue_id=c.issue_id))
    return ops


def _reply_meta(reply: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"kind": reply.kind}
    if reply.citations:
        meta["citations"] = [{"title": c.title, "source": c.source, "ref": c.ref} for c in reply.citations]
    return meta


def _result(
    stored: _Stored,
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
