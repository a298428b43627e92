"""Claiming a waiting conversation: one person at a time, within their capacity, most urgent first."""

from __future__ import annotations

from datetime import datetime

import anyio
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helixdesk.agents.service import agent_states
from helixdesk.auth.models import StaffUser
from helixdesk.auth.roles import queues_for
from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import ConversationState, Sender
from helixdesk.conversations.store import add_message, lock_open_conversation
from helixdesk.db.base import utcnow
from helixdesk.db.session import transaction
from helixdesk.events import (
    ConversationStateChanged,
    Event,
    HandoffClaimed,
    MessageSent,
)
from helixdesk.handoff.base import HandoffBase, QueueItem, language_of
from helixdesk.handoff.errors import (
    AgentAtCapacityError,
    AlreadyClaimedError,
    HandoffNotFoundError,
    NothingToClaimError,
    NotYourConversationError,
    QueueNotAllowedError,
)
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.routing.priority import effective_score


class ClaimingMixin(HandoffBase):
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
            return self.queue_item(handoff, user.id, now), events

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
                    return self.queue_item(handoff, user.id, now), events
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
        self.record(s, user, "handoff.claimed", handoff.conversation_id, details={"queue": handoff.queue})
        conv = lock_open_conversation(s, handoff.conversation_id)
        old = conv.state
        conv.state = ConversationState.WITH_AGENT.value
        language = language_of(conv)
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
