"""Step 4 of a turn (`helixdesk.conversations.turns`): storing what the bot decided, in one transaction.

The new dialogue state, the NLU record of the customer's message, the replies, the issue changes,
the incidents explained, the lifecycle touches, the audit of each action, a handover to a person,
their events, and the claim released. Everything that needs no database is prepared first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.errors import ConversationBusyError
from helixdesk.conversations.models import ConversationState, Sender
from helixdesk.conversations.ports import Handovers
from helixdesk.conversations.store import StoredMessage
from helixdesk.conversations.turn_context import Claimed
from helixdesk.conversations.writer import ConversationWriter, NewMessage
from helixdesk.core.events import MessageData
from helixdesk.core.languages import LANGUAGES
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
from helixdesk.dialogue.state import StateConflictError, save_state, stored_form
from helixdesk.incidents.register import record_explanations
from helixdesk.lifecycle.touches import record_touch
from helixdesk.memory.service import IssueOp, apply_issue_ops
from helixdesk.privacy.masking import Masked


@dataclass(frozen=True, slots=True)
class Stored:
    """The customer's message as stored, and the turn's claim and context when this request has it."""

    message: MessageData
    state: str
    duplicate: bool
    masked: Masked | None = None  # how the stored text was masked (not for duplicates)
    replies: tuple[MessageData, ...] = ()
    reply_meta: tuple[dict[str, Any], ...] = ()
    context: Claimed | None = None
    extra_meta: dict[str, Any] | None = None  # kept on the message with its NLU record (an image)


class TurnRecorder:
    """Stores a turn the bot answered (the conversation row still claimed for it)."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        writer: ConversationWriter,
        bot: Bot,
        handovers: Handovers,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._bot = bot
        self._handovers = handovers

    def store(
        self, stored: Stored, ctx: TurnContext, answered: BotTurn
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
    if getattr(reply, "llm", None):
        meta["llm"] = reply.llm  # written by the optional LLM (docs/llm.md), checked by its guardrails
    return meta
