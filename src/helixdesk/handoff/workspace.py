"""What an agent does inside one conversation: open it (role-checked), read the summary and the
customer's profile and products (masked), get suggested replies, write to the customer, keep
internal notes, and turn an insight into a knowledge-base draft that a supervisor reviews.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.auth.service import StaffView
from helixdesk.bank.connector import BankConnector
from helixdesk.bus import outbox
from helixdesk.conversations.errors import (
    ConversationForbiddenError,
    ConversationNotFoundError,
)
from helixdesk.conversations.models import Conversation, ConversationState, Customer, Message, Sender
from helixdesk.conversations.store import message_data
from helixdesk.conversations.writer import NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.events import HandoffAnswered, MessageData
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.common import Desk, active_handoff, record
from helixdesk.handoff.errors import NotYourConversationError
from helixdesk.handoff.models import AgentNote, Handoff, HandoffStatus
from helixdesk.handoff.packet import summary_in
from helixdesk.handoff.queue_view import QueueView
from helixdesk.handoff.sla import has_first_reply
from helixdesk.handoff.whisper import note_data
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.privacy.masking import mask_email, mask_phone

MAX_AGENT_MESSAGE = 4000
EMPATHY_STYLES = ("warm", "patient", "concise")
# The customer's emotion → the empathy opening an agent may start with (templates `empathy.*`).
EMPATHY_FOR = {"anger": "apology", "disgust": "apology", "fear": "reassure", "sadness": "sad"}


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: str  # knowledge, empathy
    text: str
    title: str = ""
    source: str = ""
    score: float = 0.0


PAST_SHOWN = 20  # the customer's earlier conversations listed beside one


@dataclass
class ConversationView:
    conversation: dict[str, Any]
    messages: list[MessageData]
    handoff: dict[str, Any] | None
    history: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    customer: dict[str, Any] | None
    products: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    mine: bool = False
    # The customer's other conversations on every channel (web, app, WeChat, ...), newest first.
    past: list[dict[str, Any]] = field(default_factory=list)


class AgentWorkspace:
    def __init__(
        self,
        *,
        desk: Desk,
        view: QueueView,
        bank: BankConnector,
        knowledge: KnowledgeBase,
        tz: tzinfo = UTC,
    ) -> None:
        self._desk = desk
        self._view = view
        # The bank's time zone: the times an agent reads are the bank's local times.
        self._tz = tz
        # Agents' words are stored masked like customers': they may repeat a card or phone number.
        self._privacy = desk.writer.privacy
        self._sessions = desk.sessions
        self._bank = bank
        self._knowledge = knowledge
        self._templates = desk.templates

    # ---- who may open what ----------------------------------------------------------------------

    def check_open(self, s: Session, user: StaffView, conversation_id: str) -> list[Handoff]:
        """Supervisors open any conversation; others only those in their queues or that they handled."""
        if s.get(Conversation, conversation_id) is None:
            raise ConversationNotFoundError(f"no conversation {conversation_id}")
        handoffs = list(
            s.scalars(
                select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.created_at)
            )
        )
        if user.is_supervisor:
            return handoffs
        allowed = any(
            h.agent_id == user.id
            or (
                h.status in (HandoffStatus.WAITING.value, HandoffStatus.ACTIVE.value)
                and h.queue in user.queues
            )
            for h in handoffs
        )
        if not allowed:
            raise ConversationForbiddenError("this conversation is not in your queues")
        return handoffs

    def check_access(self, user: StaffView, conversation_id: str) -> None:
        with reading(self._sessions) as s:
            self.check_open(s, user, conversation_id)

    # ---- reading --------------------------------------------------------------------------------

    def view(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        now: datetime | None = None,
        language: str | None = None,
    ) -> ConversationView:
        now = now or utcnow()
        with reading(self._sessions) as s:
            handoffs = self.check_open(s, user, conversation_id)
            conv = s.get(Conversation, conversation_id)
            assert conv is not None
            customer = s.get(Customer, conv.customer_id)
            ref = customer.bank_ref if customer is not None else None
            messages = [
                message_data(m)
                for m in s.scalars(
                    select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
                )
            ]
            notes = [
                note_data(n)
                for n in s.scalars(
                    select(AgentNote)
                    .where(AgentNote.conversation_id == conversation_id)
                    .order_by(AgentNote.id)
                )
            ]
            current = next(
                (
                    h
                    for h in reversed(handoffs)
                    if h.status in (HandoffStatus.WAITING.value, HandoffStatus.ACTIVE.value)
                ),
                None,
            )
            history = [
                {
                    "queue": h.queue,
                    "status": h.status,
                    "reason": h.reason,
                    "created_at": h.created_at.isoformat(),
                    "disposition": h.disposition,
                    "resolution": h.resolution,
                }
                for h in handoffs
            ]
            shown = current or (handoffs[-1] if handoffs else None)
            handoff = None
            if shown is not None:
                packet = dict(shown.packet or {})
                handoff = {
                    **self._view.item(shown, user.id, now, language).to_dict(),
                    "packet": packet,
                    "agent_id": shown.agent_id,
                    # The summary in the agent's language, worded from the packet now.
                    "summary_text": summary_in(packet, self._desk.labels, language_or_default(language)),
                }
            past = (
                [
                    {
                        "id": c.id,
                        "channel": c.channel,
                        "state": c.state,
                        "created_at": c.created_at.isoformat(),
                        "messages": c.last_seq,
                    }
                    for c in s.scalars(
                        select(Conversation)
                        .where(Conversation.customer_id == conv.customer_id, Conversation.id != conv.id)
                        .order_by(Conversation.created_at.desc())
                        .limit(PAST_SHOWN)
                    )
                ]
                if ref is not None
                else []
            )
            conversation = {
                "id": conv.id,
                "state": conv.state,
                "channel": conv.channel,
                "language": conv.language,
                "created_at": conv.created_at.isoformat(),
                "customer_ref": ref,
            }
        # Opening a conversation shows the customer's data: every opening is audited.
        with transaction(self._sessions) as s:
            record(
                self._desk,
                s,
                user,
                "conversation.viewed",
                conversation_id,
                details={"profile": ref is not None},
            )
        view = ConversationView(
            conversation=conversation,
            messages=messages,
            handoff=handoff,
            history=history,
            past=past,
            notes=notes,
            customer=None,
            mine=current is not None
            and current.agent_id == user.id
            and current.status == HandoffStatus.ACTIVE.value,
        )
        if ref is not None:
            self._add_profile(view, ref, now)
        return view

    def _add_profile(self, view: ConversationView, ref: str, now: datetime) -> None:
        """The customer's profile and products, masked where the agent does not need the number."""
        profile = self._bank.get_customer(ref)
        if profile is None:
            return
        view.customer = {
            "ref": profile.ref,
            "name_zh": profile.name_zh,
            "name_en": profile.name_en,
            "age": profile.age(now.date()),
            "segment": profile.segment,
            "value_tier": profile.value_tier,
            "risk_tolerance": profile.risk_tolerance,
            "language": profile.preferred_language,
            "phone": mask_phone(profile.phone),
            "email": mask_email(profile.email) if profile.email else None,
            "city": profile.city,
            "customer_since": profile.customer_since.isoformat(),
            "interests": list(profile.interests),
            "relationship_manager": profile.relationship_manager,
        }
        view.products = {
            "accounts": [
                {
                    "number": "****" + a.number[-4:],
                    "kind": a.kind,
                    "currency": a.currency,
                    "balance": str(a.balance),
                    "status": a.status,
                }
                for a in self._bank.list_accounts(ref)
            ],
            "cards": [
                {"last4": c.last4, "kind": c.kind, "product": c.product, "status": c.status}
                for c in self._bank.list_cards(ref)
            ],
        }
        view.transactions = [
            {
                "ref": t.ref,
                "at": t.occurred_at.astimezone(self._tz).isoformat(),
                "merchant": t.merchant,
                "amount": str(t.amount),
                "currency": t.currency,
                "status": t.status,
                "card_last4": t.card_last4,
                "channel": t.channel,
            }
            for t in self._bank.list_transactions(ref, limit=10)
        ]

    def messages_after(self, user: StaffView, conversation_id: str, after_seq: int) -> list[MessageData]:
        with reading(self._sessions) as s:
            self.check_open(s, user, conversation_id)
            rows = s.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
                .order_by(Message.seq)
                .limit(500)
            )
            return [message_data(m) for m in rows]

    # ---- suggested replies ----------------------------------------------------------------------

    def suggestions(self, user: StaffView, conversation_id: str) -> list[Suggestion]:
        """Knowledge-base answers to the customer's latest question, and empathy openings that
        match the emotion of their latest message, in the conversation's language."""
        with reading(self._sessions) as s:
            self.check_open(s, user, conversation_id)
            conv = s.get(Conversation, conversation_id)
            assert conv is not None
            last = s.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER.value)
                .order_by(Message.seq.desc())
                .limit(5)
            ).all()
            language = language_or_default(conv.language)
        out: list[Suggestion] = []
        emotion = None
        question = None
        for m in last:
            nlu = (m.meta or {}).get("nlu") or {}
            if emotion is None and nlu.get("emotion"):
                emotion = nlu["emotion"]
            intent = (nlu.get("intent") or {}).get("name")
            if question is None and intent not in (None, "greeting", "goodbye", "praise", "human_agent"):
                question = m.text
        opening = EMPATHY_FOR.get(emotion["label"]) if emotion else None
        if opening:
            strong = float(emotion["intensity"]) >= 0.7 if emotion else False
            key = (
                f"empathy.{opening}.strong"
                if strong and self._templates.has(f"empathy.{opening}.strong")
                else f"empathy.{opening}"
            )
            seen: set[str] = set()
            for style in EMPATHY_STYLES:
                text = self._templates.render(key, language=language, style=style, name="")
                if text not in seen:
                    seen.add(text)
                    out.append(Suggestion(kind="empathy", text=text, title=style))
        if question:
            for hit in self._knowledge.search(question, language=language, top_k=3):
                out.append(
                    Suggestion(
                        kind="knowledge",
                        text=hit.answer,
                        title=hit.question,
                        source=hit.citation.document_title,
                        score=round(hit.scores.rerank, 3),
                    )
                )
        return out

    # ---- writing --------------------------------------------------------------------------------

    async def post_message(
        self, user: StaffView, conversation_id: str, text: str, *, meta: dict[str, Any] | None = None
    ) -> MessageData:
        """Send `text` to the customer. `meta` is kept on the message (e.g. `qa_override`: the reason
        the agent gave for sending a message the live quality check warned about)."""
        text = text.strip()
        if not text:
            raise ValidationFailedError("the message is empty", code="empty_message")
        if len(text) > MAX_AGENT_MESSAGE:
            raise ValidationFailedError(
                f"the message has {len(text)} characters; the limit is {MAX_AGENT_MESSAGE}",
                code="message_too_long",
            )
        message = await anyio.to_thread.run_sync(self._post, user, conversation_id, text, meta or {})
        self._desk.committed()
        return message

    def _post(self, user: StaffView, conversation_id: str, text: str, extra: dict[str, Any]) -> MessageData:
        with transaction(self._sessions) as s:
            handoff = active_handoff(s, conversation_id)
            if handoff is None or handoff.status != HandoffStatus.ACTIVE.value:
                raise NotYourConversationError("claim the conversation before writing to the customer")
            if handoff.agent_id != user.id and not user.is_supervisor:
                raise NotYourConversationError("another person is handling this conversation")
            conv = self._desk.writer.lock(s, conversation_id)
            if conv.state != ConversationState.WITH_AGENT.value:
                raise NotYourConversationError("the conversation is not with a person")
            first = not has_first_reply(s, handoff)  # read under the conversation's lock
            appended = self._desk.writer.append(
                s,
                conv,
                NewMessage(
                    sender=Sender.AGENT,
                    text=text,
                    meta={
                        **extra,
                        "author": user.display_name,
                        "author_role": user.role_label,
                        "agent_id": user.id,
                    },
                ),
            )
            if first:
                # The handoff's first response: the SLA stops counting (`helixdesk.handoff.sla`).
                waited = (appended.message.created_at - handoff.created_at).total_seconds()
                outbox.record(
                    s,
                    [
                        HandoffAnswered(
                            conversation_id=conversation_id,
                            handoff_id=handoff.id,
                            queue=handoff.queue,
                            agent_id=user.id,
                            waited_seconds=max(0, round(waited)),
                            sla_seconds=handoff.sla_seconds,
                        )
                    ],
                )
            details: dict[str, Any] = {"seq": appended.message.seq}
            if "qa_override" in extra:
                details["qa_override_rules"] = extra["qa_override"].get("rules", [])
            record(self._desk, s, user, "conversation.agent_message", conversation_id, details=details)
            return appended.message

    def add_note(self, user: StaffView, conversation_id: str, text: str) -> dict[str, Any]:
        text = text.strip()
        if not text or len(text) > MAX_AGENT_MESSAGE:
            raise ValidationFailedError(f"a note has 1-{MAX_AGENT_MESSAGE} characters", code="invalid_note")
        with transaction(self._sessions) as s:
            self.check_open(s, user, conversation_id)
            note = AgentNote(
                conversation_id=conversation_id,
                author_id=user.id,
                author_name=user.display_name,
                text=self._privacy.mask(text).text,
            )
            s.add(note)
            s.flush()
            record(self._desk, s, user, "conversation.note_added", conversation_id)
            return note_data(note)
