"""Claiming a waiting conversation: one person at a time, online, within their capacity, most urgent
first.

The atomic step is a conditional update of the handoff row (`waiting` → `active`), so of many people
claiming at once across processes exactly one wins.
"""

from __future__ import annotations

from datetime import datetime

import anyio
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helixdesk.auth.models import StaffUser
from helixdesk.auth.service import StaffView
from helixdesk.bus import outbox
from helixdesk.conversations.models import ConversationState, Sender
from helixdesk.conversations.writer import NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.events import HandoffClaimed
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import transaction
from helixdesk.handoff.availability import agent_states
from helixdesk.handoff.common import Desk, record
from helixdesk.handoff.errors import (
    AgentAtCapacityError,
    AgentAwayError,
    AgentNotOnlineError,
    AlreadyClaimedError,
    HandoffNotFoundError,
    NothingToClaimError,
    NotYourConversationError,
    QueueNotAllowedError,
)
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.handoff.queue_view import QueueItem, QueueView
from helixdesk.routing.priority import effective_score
from helixdesk.routing.queues import queues_for


class Claims:
    def __init__(self, desk: Desk, view: QueueView) -> None:
        self._desk = desk
        self._view = view

    async def claim(self, user: StaffView, handoff_id: str, *, now: datetime | None = None) -> QueueItem:
        item = await anyio.to_thread.run_sync(self._claim, user, handoff_id, now or utcnow())
        self._desk.committed()
        return item

    async def claim_next(self, user: StaffView, *, now: datetime | None = None) -> QueueItem:
        """Take the most urgent conversation this person should take next (offers and wellbeing)."""
        item = await anyio.to_thread.run_sync(self._claim_next, user, now or utcnow())
        self._desk.committed()
        return item

    def _claim(self, user: StaffView, handoff_id: str, now: datetime) -> QueueItem:
        with transaction(self._desk.sessions) as s:
            agent = self._lock_agent(s, user)
            handoff = s.get(Handoff, handoff_id)
            if handoff is None:
                raise HandoffNotFoundError(f"no handoff {handoff_id}")
            if handoff.queue not in queues_for(agent.roles):
                raise QueueNotAllowedError(f"the {handoff.queue} queue is not one of yours")
            if not _take(s, handoff.id, agent, now):
                raise AlreadyClaimedError("someone else has already taken this conversation")
            self._joined(s, handoff, agent, user)
            return self._view.item(handoff, user.id, now)

    def _claim_next(self, user: StaffView, now: datetime) -> QueueItem:
        with transaction(self._desk.sessions) as s:
            agent = self._lock_agent(s, user)
            states = agent_states(s, now=now, wellbeing=self._desk.policy.wellbeing)
            me = next((a for a in states if a.state.id == agent.id), None)
            others_free = any(a.state.id != agent.id and a.state.free for a in states)
            for handoff in self._candidates(
                s, agent, now, me.state.intense_in_a_row if me else 0, others_free
            ):
                if _take(s, handoff.id, agent, now):
                    self._joined(s, handoff, agent, user)
                    return self._view.item(handoff, user.id, now)
        raise NothingToClaimError("no conversation is waiting for you")

    def _lock_agent(self, s: Session, user: StaffView) -> StaffUser:
        agent = s.scalar(select(StaffUser).where(StaffUser.id == user.id).with_for_update())
        if agent is None or agent.disabled:
            raise NotYourConversationError("this account cannot take conversations")
        # Presence is read on the locked row: going offline and claiming never interleave.
        if agent.presence == "away":
            raise AgentAwayError("you are away: set yourself online to take conversations")
        if agent.presence != "online":
            raise AgentNotOnlineError("you are offline: set yourself online to take conversations")
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

    def _candidates(
        self, s: Session, agent: StaffUser, now: datetime, intense_in_a_row: int, others_free: bool
    ) -> list[Handoff]:
        rows = s.scalars(
            select(Handoff).where(
                Handoff.status == HandoffStatus.WAITING.value, Handoff.queue.in_(queues_for(agent.roles))
            )
        ).all()
        policy = self._desk.policy
        offer_for = policy.routing.offer_seconds
        wellbeing = policy.wellbeing
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
                policy=policy.routing,
            )
            return (-score, h.created_at.timestamp())

        return sorted(mine, key=urgency) + sorted(free, key=urgency) + sorted(held_back, key=urgency)

    def _joined(self, s: Session, handoff: Handoff, agent: StaffUser, user: StaffView) -> None:
        """The person has it: the customer hears who joined, everyone listening sees the change."""
        desk = self._desk
        s.refresh(handoff)
        record(desk, s, user, "handoff.claimed", handoff.conversation_id, details={"queue": handoff.queue})
        conv = desk.writer.lock(s, handoff.conversation_id)
        outbox.record(
            s,
            [
                HandoffClaimed(
                    conversation_id=conv.id,
                    handoff_id=handoff.id,
                    queue=handoff.queue,
                    agent_id=agent.id,
                    agent_name=agent.display_name,
                    agent_role=user.role_label,
                )
            ],
        )
        desk.writer.change_state(s, conv, ConversationState.WITH_AGENT, reason="claimed", queue=handoff.queue)
        language = language_or_default(conv.language)
        text = desk.templates.render(
            "handoff.agent_joined",
            language=language,
            agent_name=agent.display_name,
            role_label=desk.templates.render(f"role.{user.role_label}", language=language),
        )
        desk.writer.append(
            s,
            conv,
            NewMessage(
                sender=Sender.SYSTEM,
                text=text,
                meta={"kind": "agent_joined", "author": agent.display_name, "author_role": user.role_label},
            ),
        )


def _take(s: Session, handoff_id: str, agent: StaffUser, now: datetime) -> bool:
    """The atomic step: only one claimer can turn a waiting handoff into an active one."""
    result = s.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.WAITING.value)
        .values(status=HandoffStatus.ACTIVE.value, agent_id=agent.id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1
