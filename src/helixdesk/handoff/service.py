"""The human side of a conversation: queueing it for a person, claiming, transferring, handing back
to the bot and wrapping up. Every change runs in one transaction and publishes its events after
commit; claiming is atomic across processes (a conditional update on the handoff row).

Conversation states: bot → waiting_for_agent (queued) → with_agent (claimed) → bot (handed back)
or closed (wrapped up); a transfer goes back to waiting_for_agent in the new queue.
"""

from __future__ import annotations

import logging
from datetime import datetime

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.agents.service import agent_states
from helixdesk.auth.roles import QUEUES
from helixdesk.conversations.models import Conversation, ConversationState, Customer, Message, Sender
from helixdesk.conversations.store import add_message, lock_open_conversation
from helixdesk.db.base import utcnow
from helixdesk.db.session import transaction
from helixdesk.dialogue.state import load_state
from helixdesk.events import (
    ConversationStateChanged,
    Event,
    HandoffQueued,
    MessageSent,
)
from helixdesk.handoff.base import HandoffContext, HandoffRequest, QueueItem, language_of
from helixdesk.handoff.claiming import ClaimingMixin
from helixdesk.handoff.closing import ClosingMixin
from helixdesk.handoff.errors import (
    AgentAtCapacityError,
    AlreadyClaimedError,
    HandoffNotFoundError,
    NothingToClaimError,
    NotYourConversationError,
    QueueNotAllowedError,
)
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.handoff.packet import PacketInput, StoredMessage, build_packet, negativity_of
from helixdesk.memory.service import open_issues
from helixdesk.routing.assign import pick_agent
from helixdesk.routing.priority import RoutingInput, decide

log = logging.getLogger(__name__)

__all__ = [
    "AgentAtCapacityError",
    "AlreadyClaimedError",
    "HandoffContext",
    "HandoffNotFoundError",
    "HandoffRequest",
    "HandoffService",
    "NotYourConversationError",
    "NothingToClaimError",
    "QueueItem",
    "QueueNotAllowedError",
]


class HandoffService(ClaimingMixin, ClosingMixin):
    # ---- queueing (inside the caller's transaction) ---------------------------------------------

    def context_for(self, conversation_id: str, *, now: datetime) -> HandoffContext:
        """Who the customer is and whether they verified, for `open_in` (call outside a transaction)."""
        with self._sessions() as s:
            ref = s.scalar(
                select(Customer.bank_ref)
                .join(Conversation, Conversation.customer_id == Customer.id)
                .where(Conversation.id == conversation_id)
            )
        profile = self._bank.get_customer(ref) if ref else None
        verified = ref is not None and self._verification.is_verified(
            conversation_id=conversation_id, customer_ref=ref, now=now
        )
        return HandoffContext(customer_ref=ref, profile=profile, verified=verified)

    def open_in(
        self,
        s: Session,
        conv: Conversation,
        request: HandoffRequest,
        context: HandoffContext,
        *,
        now: datetime,
    ) -> list[Event]:
        """Queue `conv` for a person: packet, routing decision, offer, state change; returns events."""
        existing = s.scalar(
            select(Handoff).where(
                Handoff.conversation_id == conv.id,
                Handoff.status.in_((HandoffStatus.WAITING.value, HandoffStatus.ACTIVE.value)),
            )
        )
        if existing is not None:
            return []
        ref = context.customer_ref
        profile = context.profile
        messages = [
            StoredMessage(seq=m.seq, sender=m.sender, text=m.text, meta=dict(m.meta or {}))
            for m in s.scalars(
                select(Message).where(Message.conversation_id == conv.id).order_by(Message.seq)
            )
        ]
        issues = [
            {"topic": i.topic, "intent": i.intent, "opened_at": i.opened_at.isoformat()}
            for i in open_issues(
                s,
                conv.customer_id,
                now=now,
                abandon_after_days=self._abandon_after,
                exclude_conversation=conv.id,
            )
        ]
        verified = context.verified
        queue = request.queue if request.queue in QUEUES else "general"
        packet = build_packet(
            PacketInput(
                messages=messages,
                trigger=request.trigger,
                evidence=request.evidence,
                intent=request.intent,
                queue=queue,
                next_step=self.policy.next_step(request.trigger, request.intent),
                verified=verified,
                customer_ref=ref,
                profile=profile,
                open_issues=issues,
                today=now.date(),
            ),
            self.labels,
        )
        negativity = negativity_of(packet.emotions)
        latest = packet.emotions[-1] if packet.emotions else None
        decision = decide(
            RoutingInput(
                queue=queue,
                reason=request.trigger,
                evidence=request.evidence,
                intent=request.intent,
                language=language_of(conv),
                risk=tuple(
                    (str(r["type"]), float(r.get("weight") or 1), str(r["evidence"])) for r in packet.risk
                ),
                emotion=(latest["label"], latest["intensity"]) if latest else None,
                negativity=negativity,
                value_tier=profile.value_tier if profile else None,
                relationship_manager=profile.relationship_manager if profile else None,
            ),
            self.policy.routing,
        )
        agents = [a.state for a in agent_states(s, now=now, wellbeing=self.policy.wellbeing)]
        offer = pick_agent(
            decision,
            agents,
            negativity=negativity,
            relationship_manager=profile.relationship_manager if profile else None,
            wellbeing=self.policy.wellbeing,
        )
        handoff = Handoff(
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            queue=decision.queue,
            status=HandoffStatus.WAITING.value,
            reason=request.trigger,
            intent=request.intent,
            language=language_of(conv),
            priority=decision.priority,
            score=decision.score,
            sla_seconds=decision.sla_seconds,
            explanation=decision.explanation,
            negativity=negativity,
            skills=list(decision.skills),
            packet={
                **packet.to_dict(),
                "routing": {"factors": decision.factors, "offer": [[c, v] for c, v in offer.reasons]},
            },
            offered_to=offer.agent_id,
            offered_at=now if offer.agent_id else None,
            offer_note=offer.note,
            created_at=now,
        )
        s.add(handoff)
        old_state = conv.state
        conv.state = ConversationState.WAITING_FOR_AGENT.value
        s.flush()
        log.info("conversation %s queued: %s (%s)", conv.id, decision.explanation, offer.note)
        return [
            ConversationStateChanged(
                conversation_id=conv.id,
                old_state=old_state,
                new_state=conv.state,
                reason=request.trigger,
                queue=decision.queue,
            ),
            HandoffQueued(
                conversation_id=conv.id,
                handoff_id=handoff.id,
                queue=decision.queue,
                priority=decision.priority,
                reason=request.trigger,
                explanation=decision.explanation,
                language=handoff.language,
                offered_to=offer.agent_id,
            ),
        ]

    async def request_by_customer(self, conversation_id: str, *, now: datetime | None = None) -> str:
        """The customer pressed "talk to a person": queue the conversation (no-op if already queued)."""
        events, state = await anyio.to_thread.run_sync(self._do_request_by_customer, conversation_id, now)
        await self.publish(events)
        return state

    def _do_request_by_customer(self, conversation_id: str, now: datetime | None) -> tuple[list[Event], str]:
        now = now or utcnow()
        context = self.context_for(conversation_id, now=now)
        with transaction(self._sessions) as s:
            conv = lock_open_conversation(s, conversation_id)
            if conv.state != ConversationState.BOT.value:
                return [], conv.state
            state = load_state(s, conv.id)
            intent = state.last.intent if state.last is not None else None
            events: list[Event] = []
            language = language_of(conv)
            text = self.templates.render("handoff.now", language=language, queue="general")
            msg = add_message(s, conv.id, sender=Sender.BOT.value, text=text, meta={"kind": "handoff"})
            events.append(MessageSent(conversation_id=conv.id, message=msg))
            events += self.open_in(
                s,
                conv,
                HandoffRequest(queue="general", trigger="customer_request", intent=intent),
                context,
                now=now,
            )
            return events, conv.state
