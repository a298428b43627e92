"""What every part of the handoff service shares: its collaborators, the queue as each person sees
it, and the events it publishes after commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import AuditLog, Target
from helixdesk.audit.context import staff_actor
from helixdesk.auth.roles import queues_for
from helixdesk.auth.service import StaffView
from helixdesk.bank.connector import BankConnector
from helixdesk.bank.connector import Customer as Customer_
from helixdesk.bus.protocol import EventBus
from helixdesk.conversations.models import Conversation, Customer
from helixdesk.db.base import utcnow
from helixdesk.dialogue.ports import VerificationPort
from helixdesk.events import (
    Event,
)
from helixdesk.handoff.errors import (
    NotYourConversationError,
)
from helixdesk.handoff.explain import explain
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.handoff.packet import Labels
from helixdesk.handoff.policy import HandoffPolicy
from helixdesk.nlg.templates import Templates
from helixdesk.routing.priority import effective_priority, effective_score

log = logging.getLogger(__name__)


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


def language_of(conv: Conversation) -> str:
    return conv.language if conv.language in ("zh-Hans", "zh-Hant", "en") else "zh-Hans"


class HandoffBase:
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
        audit: AuditLog | None = None,
    ) -> None:
        self.audit = audit
        self._sessions = sessions
        self._bus = bus
        self._bank = bank
        self._verification = verification
        self.policy = policy
        self.templates = templates
        self.labels = labels
        self._abandon_after = abandon_issue_after_days

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
            items = [self.queue_item(h, user.id, now, language) for h in rows]
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

    def queue_item(self, h: Handoff, me: str, now: datetime, language: str | None = None) -> QueueItem:
        """One handoff as the queue shows it to person `me` now (explanation in `language`)."""
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

    # ---- events ---------------------------------------------------------------------------------

    def record(
        self,
        s: Session,
        user: StaffView,
        action: str,
        conversation_id: str,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        """An audit entry for what a person did in a conversation (inside the caller's transaction)."""
        if self.audit is None:
            return
        ref = s.scalar(
            select(Customer.bank_ref)
            .join(Conversation, Conversation.customer_id == Customer.id)
            .where(Conversation.id == conversation_id)
        )
        self.audit.record(
            s,
            actor=staff_actor(user.id),
            action=action,
            target=Target.conversation(conversation_id),
            reason=reason,
            details=details,
            customer_ref=ref,
        )

    async def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            try:
                await self._bus.publish(event)
            except Exception:
                # Committed already; consoles and chats catch up from the database.
                log.exception("could not publish %s for conversation %s", event.type, event.conversation_id)
