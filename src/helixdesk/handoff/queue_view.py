"""The queue as each person sees it: waiting conversations of their queues, most urgent first, then
their own open ones, each with its routing explanation in their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from helixdesk.auth.service import StaffView
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading
from helixdesk.handoff.common import Desk
from helixdesk.handoff.explain import explain
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.handoff.sla import board, unanswered
from helixdesk.routing.priority import effective_priority, effective_score
from helixdesk.routing.queues import queues_for


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


class QueueView:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    @property
    def labels(self) -> Any:
        return self._desk.labels

    def queue_for(
        self, user: StaffView, *, now: datetime | None = None, language: str | None = None
    ) -> list[QueueItem]:
        """Waiting conversations this person may take, most urgent first, then their own open ones."""
        now = now or utcnow()
        queues = queues_for(user.roles)
        with reading(self._desk.sessions) as s:
            rows = s.scalars(
                select(Handoff).where(
                    (Handoff.status == HandoffStatus.WAITING.value) & Handoff.queue.in_(queues)
                    | ((Handoff.status == HandoffStatus.ACTIVE.value) & (Handoff.agent_id == user.id))
                )
            ).all()
            items = [self.item(h, user.id, now, language) for h in rows]
        items.sort(key=lambda i: (i.status != "active", not i.offered_to_me, -i.score, -i.waiting_seconds))
        return items

    def explanation(self, h: Handoff, language: str | None) -> str:
        routing = (h.packet or {}).get("routing") or {}
        if language and routing.get("factors"):
            return explain(routing["factors"], routing.get("offer") or [], self._desk.labels, language)
        return h.explanation + (f"; {h.offer_note}" if h.offer_note else "")

    def item(self, h: Handoff, me: str, now: datetime, language: str | None = None) -> QueueItem:
        """One handoff as the queue shows it to person `me` now (explanation in `language`)."""
        waited = int(max(0.0, (now - h.created_at).total_seconds()))
        customer = (h.packet or {}).get("customer") or {}
        routing = self._desk.policy.routing
        base = h.score or h.priority
        return QueueItem(
            handoff_id=h.id,
            conversation_id=h.conversation_id,
            queue=h.queue,
            status=h.status,
            priority=h.priority,
            effective_priority=effective_priority(
                base, created_at=h.created_at, sla_seconds=h.sla_seconds, now=now, policy=routing
            ),
            score=round(
                effective_score(
                    base, created_at=h.created_at, sla_seconds=h.sla_seconds, now=now, policy=routing
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
            customer_label=str(
                customer.get("ref") or self._desk.labels.get("customer", "anonymous", language or "en")
            ),
            summary=dict((h.packet or {}).get("summary") or {}),
        )

    def sla_board(self, *, now: datetime | None = None) -> dict[str, Any]:
        """First-response SLAs now, over every queue: the breaches, per-queue counts, and the
        conversations still within their target (`helixdesk.handoff.sla`). For supervisors."""
        now = now or utcnow()
        with reading(self._desk.sessions) as s:
            items = unanswered(s)
        return board(items, now)
