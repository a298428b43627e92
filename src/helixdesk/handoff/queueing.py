"""Queueing a conversation for a person: the handoff packet, one routing decision, an offer.

`route` is the one routing decision: the queue's priority with its explanation (risk, emotion,
customer value; `helixdesk.routing.priority`) and whom to offer the conversation to
(`helixdesk.routing.assign`). Both the bot's handover and an agent's transfer use it.

The bot's turn works a handover out before its transaction (`Queueing.prepare`: the packet from
what is stored and what the turn is about to store, the route, the offer) and stores it inside
(`Queueing.store`: the handoff, the conversation moved to `waiting_for_agent` through the
conversation writer, the event), so the database's single writer is held only to write.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.bank.connector import Customer
from helixdesk.bus import outbox
from helixdesk.conversations.models import Conversation, ConversationState, Message
from helixdesk.conversations.writer import Writable
from helixdesk.core.events import HandoffQueued
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import reading
from helixdesk.dialogue.context import CustomerContext
from helixdesk.dialogue.effects import HandOver
from helixdesk.handoff.availability import agent_states
from helixdesk.handoff.common import Desk, active_handoff
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.handoff.packet import PacketInput, StoredMessage, build_packet, negativity_of
from helixdesk.llm.redact import customer_names
from helixdesk.memory.service import open_issues
from helixdesk.routing.assign import Offer, pick_agent
from helixdesk.routing.priority import RoutingDecision, RoutingInput, decide
from helixdesk.routing.queues import QUEUES

log = logging.getLogger(__name__)

# The latest messages the optional LLM's handoff summary is written from.
LLM_SUMMARY_LINES = 30


@dataclass(frozen=True, slots=True)
class Routed:
    decision: RoutingDecision
    offer: Offer
    negativity: float


def route(
    desk: Desk,
    s: Session,
    *,
    queue: str,
    reason: str,
    evidence: str,
    intent: str | None,
    language: str,
    risk: Sequence[Mapping[str, Any]],
    emotions: Sequence[Mapping[str, Any]],
    profile: Customer | None,
    now: datetime,
    channel: str | None = None,
    tier: str | None = None,
) -> Routed:
    """Where a conversation goes, how urgent it is and why, its first-response target, and whom it
    is offered to. `tier` stands for the profile's value tier when there is no profile (a transfer
    reads it from the packet)."""
    negativity = negativity_of(emotions)
    latest = emotions[-1] if emotions else None
    decision = decide(
        RoutingInput(
            queue=queue,
            reason=reason,
            evidence=evidence,
            intent=intent,
            language=language,
            risk=tuple((str(r["type"]), float(r.get("weight") or 1), str(r["evidence"])) for r in risk),
            emotion=(latest["label"], latest["intensity"]) if latest else None,
            negativity=negativity,
            value_tier=profile.value_tier if profile else tier,
            relationship_manager=profile.relationship_manager if profile else None,
            channel=channel,
        ),
        desk.policy.routing,
    )
    agents = [a.state for a in agent_states(s, now=now, wellbeing=desk.policy.wellbeing)]
    offer = pick_agent(
        decision,
        agents,
        negativity=negativity,
        relationship_manager=profile.relationship_manager if profile else None,
        wellbeing=desk.policy.wellbeing,
    )
    return Routed(decision, offer, negativity)


@dataclass(frozen=True, slots=True)
class PreparedHandover:
    """Everything a handover stores, worked out from what was read: its packet, route and offer."""

    handover: HandOver
    language: str
    packet: dict[str, Any]
    routed: Routed
    now: datetime


class Queueing:
    """Queues conversations for people. The bot's turn calls `prepare` before its transaction (it
    reads the conversation, the open issues and who is free, and builds the packet) and `store`
    inside it; the customer's "talk to a person" request calls `queue`, which does both."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def prepare(
        self,
        conversation_id: str,
        handover: HandOver,
        *,
        customer: CustomerContext,
        language: str | None,
        verified: bool,
        now: datetime,
        pending: Sequence[StoredMessage] = (),
    ) -> PreparedHandover:
        """Work the handover out from what is stored, plus `pending`: messages of this turn that
        are not stored yet (they replace stored ones with the same sequence number)."""
        with reading(self._desk.sessions) as s:
            messages = _messages(s, conversation_id, pending)
            prepared = self._prepare(
                s, conversation_id, handover, customer, language, verified, now, messages
            )
        return self._with_llm_summary(prepared, conversation_id, customer, messages)

    def _with_llm_summary(
        self,
        prepared: PreparedHandover,
        conversation_id: str,
        customer: CustomerContext,
        messages: Sequence[StoredMessage],
    ) -> PreparedHandover:
        """The optional LLM's summary beside the extractive one (outside any transaction; none
        when the LLM is off or its answer fails a guardrail). A handover the customer asks for
        (`queue`, inside the caller's transaction) has the extractive summary only."""
        assistant = self._desk.assistant
        if assistant is None or not assistant.can("summary"):
            return prepared
        lang = prepared.language
        text = assistant.summarise(
            facts=str(prepared.packet.get("summary", {}).get(lang, "")),
            lines=[(m.seq, m.sender, m.text) for m in messages if m.sender != "system"][-LLM_SUMMARY_LINES:],
            language=lang,
            names=customer_names(customer.profile),
            conversation_id=conversation_id,
        )
        if text is None:
            return prepared
        packet = {**prepared.packet, "llm_summary": {"language": lang, "text": text}}
        return dataclasses.replace(prepared, packet=packet)

    def queue(
        self,
        s: Session,
        conv: Writable,
        handover: HandOver,
        *,
        customer: CustomerContext,
        verified: bool,
        now: datetime,
    ) -> None:
        """Queue `conv` for a person, all in the caller's transaction."""
        if active_handoff(s, conv.id) is not None:
            return
        messages = _messages(s, conv.id, ())
        self.store(
            s, conv, self._prepare(s, conv.id, handover, customer, conv.language, verified, now, messages)
        )

    def _prepare(
        self,
        s: Session,
        conversation_id: str,
        handover: HandOver,
        customer: CustomerContext,
        language: str | None,
        verified: bool,
        now: datetime,
        messages: Sequence[StoredMessage],
    ) -> PreparedHandover:
        desk = self._desk
        profile = customer.profile
        issues = [
            {"topic": i.topic, "intent": i.intent, "opened_at": i.opened_at.isoformat()}
            for i in open_issues(
                s,
                customer.customer_id,
                now=now,
                abandon_after_days=desk.abandon_issue_after_days,
                exclude_conversation=conversation_id,
            )
        ]
        queue = handover.queue if handover.queue in QUEUES else "general"
        channel = s.scalar(select(Conversation.channel).where(Conversation.id == conversation_id))
        lang = language_or_default(language)
        packet = build_packet(
            PacketInput(
                messages=messages,
                trigger=handover.trigger,
                evidence=handover.evidence,
                intent=handover.intent,
                queue=queue,
                next_step=desk.policy.next_step(handover.trigger, handover.intent),
                verified=verified,
                customer_ref=customer.customer_ref,
                profile=profile,
                open_issues=issues,
                today=now.date(),
            ),
            desk.labels,
        )
        routed = route(
            desk,
            s,
            queue=queue,
            reason=handover.trigger,
            evidence=handover.evidence,
            intent=handover.intent,
            language=lang,
            risk=packet.risk,
            emotions=packet.emotions,
            profile=profile,
            now=now,
            channel=channel,
        )
        return PreparedHandover(handover, lang, packet.to_dict(), routed, now)

    def store(self, s: Session, conv: Writable, prepared: PreparedHandover) -> None:
        """Store the handover and move the conversation to `waiting_for_agent` (no-op when it already
        waits for or is with a person)."""
        if active_handoff(s, conv.id) is not None:
            return
        handover, now = prepared.handover, prepared.now
        decision, offer = prepared.routed.decision, prepared.routed.offer
        handoff = Handoff(
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            queue=decision.queue,
            status=HandoffStatus.WAITING.value,
            reason=handover.trigger,
            intent=handover.intent,
            language=prepared.language,
            priority=decision.priority,
            score=decision.score,
            sla_seconds=decision.sla_seconds,
            explanation=decision.explanation,
            negativity=prepared.routed.negativity,
            skills=list(decision.skills),
            packet={
                **prepared.packet,
                "routing": {"factors": decision.factors, "offer": [[c, v] for c, v in offer.reasons]},
            },
            offered_to=offer.agent_id,
            offered_at=now if offer.agent_id else None,
            offer_note=offer.note,
            created_at=now,
        )
        s.add(handoff)
        s.flush()
        self._desk.writer.change_state(
            s, conv, ConversationState.WAITING_FOR_AGENT, reason=handover.trigger, queue=decision.queue
        )
        outbox.record(
            s,
            [
                HandoffQueued(
                    conversation_id=conv.id,
                    handoff_id=handoff.id,
                    queue=decision.queue,
                    priority=decision.priority,
                    reason=handover.trigger,
                    explanation=decision.explanation,
                    language=handoff.language,
                    offered_to=offer.agent_id,
                )
            ],
        )
        log.info("conversation %s queued: %s (%s)", conv.id, decision.explanation, offer.note)


def _messages(s: Session, conversation_id: str, pending: Sequence[StoredMessage]) -> list[StoredMessage]:
    """The conversation's stored messages, with `pending` (not stored yet) in place of any of the
    same sequence number."""
    replaced = {m.seq for m in pending}
    stored = [
        StoredMessage(seq=m.seq, sender=m.sender, text=m.text, meta=dict(m.meta or {}))
        for m in s.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        )
        if m.seq not in replaced
    ]
    return sorted([*stored, *pending], key=lambda m: m.seq)
