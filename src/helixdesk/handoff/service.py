"""The human side of a conversation: queueing it for a person, claiming, transferring, handing back
to the bot and wrapping up. Every change runs in one transaction and publishes its events after
commit; claiming is atomic across processes (a conditional update on the handoff row).

Conversation states: bot → waiting_for_agent (queued) → with_agent (claimed) → bot (handed back)
or closed (wrapped up); a transfer goes back to waiting_for_agent in the new queue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.agents.service import agent_states
from helixdesk.auth.models import StaffUser
from helixdesk.auth.roles import QUEUES, queues_for
from helixdesk.auth.service import StaffView
from helixdesk.bank.connector import BankConnector
from helixdesk.bank.connector import Customer as Customer_
from helixdesk.bus.protocol import EventBus
from helixdesk.conversations.errors import ConversationNotFoundError
from helixdesk.conversations.models import Conversation, ConversationState, Customer, Message, Sender
from helixdesk.conversations.store import add_message, lock_open_conversation
from helixdesk.db.base import utcnow
from helixdesk.db.session import transaction
from helixdesk.dialogue.ports import VerificationPort
from helixdesk.dialogue.state import DialogueState, load_state, save_state
from helixdesk.errors import AppError, ConflictError, NotFoundError, ValidationFailedError
from helixdesk.events import (
    ConversationStateChanged,
    Event,
    HandoffClaimed,
    HandoffEnded,
    HandoffQueued,
    MessageSent,
)
from helixdesk.handoff.explain import explain
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.handoff.packet import Labels, PacketInput, StoredMessage, build_packet, negativity_of
from helixdesk.handoff.policy import HandoffPolicy
from helixdesk.memory.service import IssueOp, apply_issue_ops, open_issues
from helixdesk.nlg.templates import Templates
from helixdesk.routing.assign import pick_agent
from helixdesk.routing.priority import RoutingInput, decide, effective_priority, effective_score

log = logging.getLogger(__name__)

RESOLUTIONS = ("resolved", "unresolved", "follow_up")


class HandoffNotFoundError(NotFoundError):
    code = "handoff_not_found"


class AlreadyClaimedError(ConflictError):
    code = "already_claimed"


class AgentAtCapacityError(ConflictError):
    code = "agent_at_capacity"


class NotYourConversationError(AppError):
    code = "not_your_conversation"
    http_status = 403


class QueueNotAllowedError(AppError):
    code = "queue_not_allowed"
    http_status = 403


class NothingToClaimError(NotFoundError):
    code = "queue_empty"


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    queue: str
    trigger: str
    evidence: str = ""
    intent: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffContext:
    """Read before the write transaction (the bank and identity services use their own sessions)."""

    customer_ref: str | None
    profile: Customer_ | None
    verified: bool


@dataclass(frozen=True, slots=True)
class QueueItem:
    handoff_id: str
    conversation_id: str
    queue: str
    status: str
    priority: int
    effective_priority: int
    score: float
    waiting_seconds: int
    sla_seconds: int
    reason: str
    intent: str | None
    language: str
    explanation: str
    negativity: float
    offered_to: str | None
    offered_to_me: bool
    agent_id: str | None
    customer_label: str
    summary: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _language_of(conv: Conversation) -> str:
    return conv.language if conv.language in ("zh-Hans", "zh-Hant", "en") else "zh-Hans"


class HandoffService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        bus: EventBus,
        bank: BankConnector,
        verification: VerificationPort,
        policy: HandoffPolicy,
        templates: Templates,
        labels: Labels,
        abandon_issue_after_days: int = 30,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._bank = bank
        self._verification = verification
        self.policy = policy
        self.templates = templates
        self.labels = labels
        self._abandon_after = abandon_issue_after_days

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
                language=_language_of(conv),
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
            language=_language_of(conv),
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
            language = _language_of(conv)
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

    # ---- the queue ------------------------------------------------------------------------------

    def queue_for(
        self, user: StaffView, *, now: datetime | None = None, language: str | None = None
    ) -> list[QueueItem]:
        """Waiting conversations this person may take, most urgent first, then their own open ones."""
        now = now or utcnow()
        queues = queues_for(user.roles)
        with self._sessions() as s:
            rows = s.scalars(
                select(Handoff).where(
                    (Handoff.status == HandoffStatus.WAITING.value) & Handoff.queue.in_(queues)
                    | ((Handoff.status == HandoffStatus.ACTIVE.value) & (Handoff.agent_id == user.id))
                )
            ).all()
            items = [self._item(h, user.id, now, language) for h in rows]
        items.sort(
            key=lambda i: (
                i.status != "active",
                not i.offered_to_me,
                -i.score,
                -i.waiting_seconds,
            )
        )
        return items

    def explanation(self, h: Handoff, language: str | None) -> str:
        routing = (h.packet or {}).get("routing") or {}
        if language and routing.get("factors"):
            return explain(routing["factors"], routing.get("offer") or [], self.labels, language)
        return h.explanation + (f"; {h.offer_note}" if h.offer_note else "")

    def _item(self, h: Handoff, me: str, now: datetime, language: str | None = None) -> QueueItem:
        waited = int(max(0.0, (now - h.created_at).total_seconds()))
        customer = (h.packet or {}).get("customer") or {}
        label = customer.get("ref") or "anonymous"
        return QueueItem(
            handoff_id=h.id,
            conversation_id=h.conversation_id,
            queue=h.queue,
            status=h.status,
            priority=h.priority,
            effective_priority=effective_priority(
                h.score or h.priority,
                created_at=h.created_at,
                sla_seconds=h.sla_seconds,
                now=now,
                policy=self.policy.routing,
            ),
            score=round(
                effective_score(
                    h.score or h.priority,
                    created_at=h.created_at,
                    sla_seconds=h.sla_seconds,
                    now=now,
                    policy=self.policy.routing,
                ),
                2,
            ),
            waiting_seconds=waited,
            sla_seconds=h.sla_seconds,
            reason=h.reason,
            intent=h.intent,
            language=h.language,
            explanation=self.explanation(h, language),
            negativity=h.negativity,
            offered_to=h.offered_to,
            offered_to_me=h.offered_to == me,
            agent_id=h.agent_id,
            customer_label=str(label),
            summary=dict((h.packet or {}).get("summary") or {}),
        )

    # ---- claiming -------------------------------------------------------------------------------

    async def claim(self, user: StaffView, handoff_id: str, *, now: datetime | None = None) -> QueueItem:
        item, events = await anyio.to_thread.run_sync(self._do_claim, user, handoff_id, now)
        await self.publish(events)
        return item

    async def claim_next(self, user: StaffView, *, now: datetime | None = None) -> QueueItem:
        """Take the most urgent conversation this person should take next (offers and wellbeing)."""
        item, events = await anyio.to_thread.run_sync(self._do_claim_next, user, now)
        await self.publish(events)
        return item

    def _lock_agent(self, s: Session, user: StaffView) -> StaffUser:
        agent = s.scalar(select(StaffUser).where(StaffUser.id == user.id).with_for_update())
        if agent is None or agent.disabled:
            raise NotYourConversationError("this account cannot take conversations")
        active = s.scalar(
            select(func.count())
            .select_from(Handoff)
            .where(Handoff.agent_id == agent.id, Handoff.status == HandoffStatus.ACTIVE.value)
        )
        if int(active or 0) >= agent.max_concurrent:
            raise AgentAtCapacityError(
                f"you already have {active} open conversations (your limit is {agent.max_concurrent})"
            )
        return agent

    def _do_claim(
        self, user: StaffView, handoff_id: str, now: datetime | None
    ) -> tuple[QueueItem, list[Event]]:
        now = now or utcnow()
        with transaction(self._sessions) as s:
            agent = self._lock_agent(s, user)
            handoff = s.get(Handoff, handoff_id)
            if handoff is None:
                raise HandoffNotFoundError(f"no handoff {handoff_id}")
            if handoff.queue not in queues_for(agent.roles):
                raise QueueNotAllowedError(f"the {handoff.queue} queue is not one of yours")
            if not self._take(s, handoff.id, agent, now):
                raise AlreadyClaimedError("someone else has already taken this conversation")
            events = self._joined(s, handoff, agent, user)
            return self._item(handoff, user.id, now), events

    def _do_claim_next(self, user: StaffView, now: datetime | None) -> tuple[QueueItem, list[Event]]:
        now = now or utcnow()
        with transaction(self._sessions) as s:
            agent = self._lock_agent(s, user)
            states = agent_states(s, now=now, wellbeing=self.policy.wellbeing)
            me = next((a for a in states if a.state.id == agent.id), None)
            others_free = any(a.state.id != agent.id and a.state.free for a in states)
            for handoff in self._candidates(
                s, agent, now, me.state.intense_in_a_row if me else 0, others_free
            ):
                if self._take(s, handoff.id, agent, now):
                    s.refresh(handoff)
                    events = self._joined(s, handoff, agent, user)
                    return self._item(handoff, user.id, now), events
        raise NothingToClaimError("no conversation is waiting for you")

    def _candidates(
        self, s: Session, agent: StaffUser, now: datetime, intense_in_a_row: int, others_free: bool
    ) -> list[Handoff]:
        rows = s.scalars(
            select(Handoff).where(
                Handoff.status == HandoffStatus.WAITING.value, Handoff.queue.in_(queues_for(agent.roles))
            )
        ).all()
        offer_for = self.policy.routing.offer_seconds
        wellbeing = self.policy.wellbeing
        mine, free, held_back = [], [], []
        for h in rows:
            offer_live = (
                h.offered_to is not None
                and h.offered_at is not None
                and (now - h.offered_at).total_seconds() < offer_for
            )
            if offer_live and h.offered_to != agent.id:
                continue
            tiring = (
                h.negativity >= wellbeing.intense
                and intense_in_a_row >= wellbeing.max_intense_in_a_row
                and others_free
            )
            if h.offered_to == agent.id and offer_live:
                mine.append(h)
            elif tiring:
                held_back.append(h)
            else:
                free.append(h)

        def urgency(h: Handoff) -> tuple[float, float]:
            score = effective_score(
                h.score or h.priority,
                created_at=h.created_at,
                sla_seconds=h.sla_seconds,
                now=now,
                policy=self.policy.routing,
            )
            return (-score, h.created_at.timestamp())

        return sorted(mine, key=urgency) + sorted(free, key=urgency) + sorted(held_back, key=urgency)

    @staticmethod
    def _take(s: Session, handoff_id: str, agent: StaffUser, now: datetime) -> bool:
        """The atomic step: only one claimer can turn a waiting handoff into an active one."""
        result = s.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.WAITING.value)
            .values(status=HandoffStatus.ACTIVE.value, agent_id=agent.id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    def _joined(self, s: Session, handoff: Handoff, agent: StaffUser, user: StaffView) -> list[Event]:
        s.refresh(handoff)
        conv = lock_open_conversation(s, handoff.conversation_id)
        old = conv.state
        conv.state = ConversationState.WITH_AGENT.value
        language = _language_of(conv)
        text = self.templates.render(
            "handoff.agent_joined",
            language=language,
            agent_name=agent.display_name,
            role_label=self.templates.render(f"role.{user.role_label}", language=language),
        )
        msg = add_message(
            s,
            conv.id,
            sender=Sender.SYSTEM.value,
            text=text,
            meta={"kind": "agent_joined", "author": agent.display_name, "author_role": user.role_label},
        )
        return [
            HandoffClaimed(
                conversation_id=conv.id,
                handoff_id=handoff.id,
                queue=handoff.queue,
                agent_id=agent.id,
                agent_name=agent.display_name,
                agent_role=user.role_label,
            ),
            ConversationStateChanged(
                conversation_id=conv.id,
                old_state=old,
                new_state=conv.state,
                reason="claimed",
                queue=handoff.queue,
            ),
            MessageSent(conversation_id=conv.id, message=msg),
        ]

    # ---- after the claim ------------------------------------------------------------------------

    def active_handoff(self, s: Session, conversation_id: str) -> Handoff | None:
        return s.scalar(
            select(Handoff).where(
                Handoff.conversation_id == conversation_id,
                Handoff.status.in_((HandoffStatus.WAITING.value, HandoffStatus.ACTIVE.value)),
            )
        )

    def _own(self, s: Session, user: StaffView, conversation_id: str) -> Handoff:
        handoff = self.active_handoff(s, conversation_id)
        if handoff is None or handoff.status != HandoffStatus.ACTIVE.value:
            raise NotYourConversationError("nobody has claimed this conversation; claim it first")
        if handoff.agent_id != user.id and not user.is_supervisor:
            raise NotYourConversationError("another person is handling this conversation")
        return handoff

    async def transfer(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        queue: str | None = None,
        to_username: str | None = None,
        note: str = "",
        now: datetime | None = None,
    ) -> None:
        events = await anyio.to_thread.run_sync(
            lambda: self._do_transfer(user, conversation_id, queue, to_username, note, now or utcnow())
        )
        await self.publish(events)

    def _do_transfer(
        self,
        user: StaffView,
        conversation_id: str,
        queue: str | None,
        to_username: str | None,
        note: str,
        now: datetime,
    ) -> list[Event]:
        with transaction(self._sessions) as s:
            current = self._own(s, user, conversation_id)
            target: StaffUser | None = None
            if to_username:
                target = s.scalar(select(StaffUser).where(StaffUser.username == to_username.strip().lower()))
                if target is None or target.disabled:
                    raise NotFoundError(f"no active colleague named {to_username!r}", code="user_not_found")
                allowed = queues_for(target.roles)
                if not allowed:
                    raise ValidationFailedError(
                        f"{target.display_name} does not take conversations", code="invalid_target"
                    )
                queue = queue or (current.queue if current.queue in allowed else allowed[0])
                if queue not in allowed:
                    raise ValidationFailedError(
                        f"{target.display_name} does not work the {queue} queue", code="invalid_target"
                    )
            if queue not in QUEUES:
                raise ValidationFailedError(f"queue must be one of {', '.join(QUEUES)}", code="invalid_queue")
            conv = lock_open_conversation(s, conversation_id)
            current.status = HandoffStatus.TRANSFERRED.value
            current.closed_at = now
            packet = dict(current.packet or {})
            packet["transfer_note"] = note.strip()[:1000]
            rule = self.policy.routing.queues[queue]
            priority = max(current.priority, rule.base)
            offer: list[list[Any]] = [["transfer", {"name": user.display_name, "from_queue": current.queue}]]
            if target is not None:
                offer.append(["offered", {"name": target.display_name, "load": "-"}])
            packet["routing"] = {
                "factors": {
                    "reason": "transfer",
                    "evidence": note.strip()[:200],
                    "queue": queue,
                    "priority": priority,
                },
                "offer": offer,
            }
            new = Handoff(
                conversation_id=conv.id,
                customer_id=conv.customer_id,
                queue=queue,
                status=HandoffStatus.WAITING.value,
                reason="transfer",
                intent=current.intent,
                language=current.language,
                priority=priority,
                score=max(current.score or current.priority, float(rule.base)),
                sla_seconds=rule.sla_seconds,
                explanation=f"transferred by {user.display_name} from the {current.queue} queue"
                + (f": {note.strip()[:200]}" if note.strip() else "")
                + f" → {queue} queue, priority {priority}",
                negativity=current.negativity,
                skills=list(current.skills or []),
                packet=packet,
                offered_to=target.id if target else None,
                offered_at=now if target else None,
                offer_note=f"offered to {target.display_name}" if target else "",
                transferred_from=current.id,
                created_at=now,
            )
            s.add(new)
            s.flush()
            old = conv.state
            conv.state = ConversationState.WAITING_FOR_AGENT.value
            language = _language_of(conv)
            text = self.templates.render(
                "handoff.transferred",
                language=language,
                queue_label=self.templates.render(f"queue.{queue}", language=language),
            )
            msg = add_message(s, conv.id, sender=Sender.SYSTEM.value, text=text, meta={"kind": "transferred"})
            return [
                HandoffEnded(
                    conversation_id=conv.id,
                    handoff_id=current.id,
                    queue=current.queue,
                    status="transferred",
                    agent_id=current.agent_id,
                ),
                ConversationStateChanged(
                    conversation_id=conv.id,
                    old_state=old,
                    new_state=conv.state,
                    reason="transfer",
                    queue=queue,
                ),
                HandoffQueued(
                    conversation_id=conv.id,
                    handoff_id=new.id,
                    queue=queue,
                    priority=new.priority,
                    reason="transfer",
                    explanation=new.explanation,
                    language=new.language,
                    offered_to=new.offered_to,
                ),
                MessageSent(conversation_id=conv.id, message=msg),
            ]

    async def hand_back(self, user: StaffView, conversation_id: str, *, now: datetime | None = None) -> None:
        """Give the conversation back to the bot, which greets the customer again."""
        events = await anyio.to_thread.run_sync(self._do_hand_back, user, conversation_id, now or utcnow())
        await self.publish(events)

    def _do_hand_back(self, user: StaffView, conversation_id: str, now: datetime) -> list[Event]:
        with transaction(self._sessions) as s:
            current = self._own(s, user, conversation_id)
            conv = lock_open_conversation(s, conversation_id)
            current.status = HandoffStatus.HANDED_BACK.value
            current.closed_at = now
            old = conv.state
            conv.state = ConversationState.BOT.value
            state = load_state(s, conv.id)
            # The bot starts fresh: nothing half-done, no history that would hand over again at once.
            fresh = DialogueState(
                style=state.style, issues_raised=True, tips_given=state.tips_given, version=state.version
            )
            save_state(s, conv.id, fresh)
            text = self.templates.render("handoff.handed_back", language=_language_of(conv))
            msg = add_message(s, conv.id, sender=Sender.BOT.value, text=text, meta={"kind": "text"})
            return [
                HandoffEnded(
                    conversation_id=conv.id,
                    handoff_id=current.id,
                    queue=current.queue,
                    status="handed_back",
                    agent_id=current.agent_id,
                ),
                ConversationStateChanged(
                    conversation_id=conv.id, old_state=old, new_state=conv.state, reason="handed_back"
                ),
                MessageSent(conversation_id=conv.id, message=msg),
            ]

    async def wrap_up(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        disposition: str,
        resolution: str,
        note: str = "",
        now: datetime | None = None,
    ) -> None:
        """Close the conversation with a disposition and a resolution status.

        `follow_up` and `unresolved` leave an open issue on the customer, which the bot raises
        first when they come back.
        """
        if resolution not in RESOLUTIONS:
            raise ValidationFailedError(
                f"resolution must be one of {', '.join(RESOLUTIONS)}", code="invalid_resolution"
            )
        dispositions = self.labels.group("disposition")
        if disposition not in dispositions:
            raise ValidationFailedError(
                f"disposition must be one of {', '.join(dispositions)}", code="invalid_disposition"
            )
        events = await anyio.to_thread.run_sync(
            lambda: self._do_wrap_up(user, conversation_id, disposition, resolution, note, now or utcnow())
        )
        await self.publish(events)

    def _do_wrap_up(
        self,
        user: StaffView,
        conversation_id: str,
        disposition: str,
        resolution: str,
        note: str,
        now: datetime,
    ) -> list[Event]:
        with transaction(self._sessions) as s:
            current = self._own(s, user, conversation_id)
            conv = lock_open_conversation(s, conversation_id)
            current.status = HandoffStatus.CLOSED.value
            current.closed_at = now
            current.disposition = disposition
            current.resolution = resolution
            current.wrap_note = note.strip()[:4000] or None
            if resolution != "resolved":
                topic = "agent_follow_up"
                apply_issue_ops(
                    s,
                    [
                        IssueOp(
                            "open",
                            topic=topic,
                            intent=current.intent or "human_agent",
                            facts={"disposition": disposition, "handoff_id": current.id},
                        )
                    ],
                    customer_id=conv.customer_id,
                    conversation_id=conv.id,
                    now=now,
                )
            text = self.templates.render("handoff.wrapped_up", language=_language_of(conv))
            msg = add_message(s, conv.id, sender=Sender.SYSTEM.value, text=text, meta={"kind": "closed"})
            old = conv.state
            conv.state = ConversationState.CLOSED.value
            conv.closed_at = now
            return [
                MessageSent(conversation_id=conv.id, message=msg),
                HandoffEnded(
                    conversation_id=conv.id,
                    handoff_id=current.id,
                    queue=current.queue,
                    status="closed",
                    agent_id=current.agent_id,
                    disposition=disposition,
                    resolution=resolution,
                ),
                ConversationStateChanged(
                    conversation_id=conv.id, old_state=old, new_state=conv.state, reason="wrapped_up"
                ),
            ]

    # ---- events ---------------------------------------------------------------------------------

    async def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            try:
                await self._bus.publish(event)
            except Exception:
                # Committed already; consoles and chats catch up from the database.
                log.exception("could not publish %s for conversation %s", event.type, event.conversation_id)

    def conversation_exists(self, conversation_id: str) -> None:
        with self._sessions() as s:
            if s.get(Conversation, conversation_id) is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
