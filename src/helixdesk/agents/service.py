"""Agents' working state: presence, open chats, emotional load (for routing and supervisors)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.agents.load import Handled, Load, emotional_load
from helixdesk.auth.models import StaffUser
from helixdesk.auth.roles import WORKING_ROLES
from helixdesk.auth.service import PRESENCE
from helixdesk.db.base import utcnow
from helixdesk.db.session import transaction
from helixdesk.errors import ValidationFailedError
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.handoff.policy import Wellbeing
from helixdesk.routing.assign import AgentState


@dataclass(frozen=True, slots=True)
class AgentLoad:
    state: AgentState
    username: str
    load: Load


def agent_states(s: Session, *, now: datetime, wellbeing: Wellbeing) -> list[AgentLoad]:
    """Every enabled person with a working role, with their open chats and emotional load."""
    users = [
        u
        for u in s.scalars(select(StaffUser).where(StaffUser.disabled.is_(False)))
        if set(u.roles or ()) & WORKING_ROLES
    ]
    since = now - timedelta(hours=wellbeing.window_hours)
    handled: dict[str, list[Handled]] = defaultdict(list)
    active: dict[str, int] = defaultdict(int)
    rows = s.execute(
        select(
            Handoff.agent_id, Handoff.status, Handoff.negativity, Handoff.claimed_at, Handoff.closed_at
        ).where(
            Handoff.agent_id.is_not(None),
            (Handoff.status == HandoffStatus.ACTIVE.value) | (Handoff.claimed_at >= since),
        )
    )
    for agent_id, status, negativity, claimed_at, closed_at in rows:
        if claimed_at is None or agent_id is None:
            continue
        if status == HandoffStatus.ACTIVE.value:
            active[agent_id] += 1
        handled[agent_id].append(
            Handled(
                negativity=float(negativity or 0),
                claimed_at=claimed_at,
                closed_at=None if status == HandoffStatus.ACTIVE.value else closed_at,
            )
        )
    out: list[AgentLoad] = []
    for u in users:
        load = emotional_load(handled[u.id], now=now, policy=wellbeing)
        state = AgentState(
            id=u.id,
            display_name=u.display_name,
            roles=tuple(u.roles or ()),
            languages=tuple(u.languages or ()),
            skills=tuple(u.skills or ()),
            employee_code=u.employee_code,
            presence=u.presence,
            max_concurrent=u.max_concurrent,
            active=active[u.id],
            load=load.load,
            intense_in_a_row=load.intense_in_a_row,
        )
        out.append(AgentLoad(state=state, username=u.username, load=load))
    return out


class AgentDirectory:
    def __init__(self, *, sessions: sessionmaker[Session], wellbeing: Wellbeing) -> None:
        self._sessions = sessions
        self.wellbeing = wellbeing

    def loads(self, *, now: datetime | None = None) -> list[AgentLoad]:
        with self._sessions() as s:
            return agent_states(s, now=now or utcnow(), wellbeing=self.wellbeing)

    def load_of(self, user_id: str, *, now: datetime | None = None) -> AgentLoad | None:
        return next((a for a in self.loads(now=now) if a.state.id == user_id), None)

    def set_presence(self, user_id: str, presence: str, *, now: datetime | None = None) -> None:
        """Online, away or offline. Leaving releases the conversations offered to this person."""
        if presence not in PRESENCE:
            raise ValidationFailedError(
                f"presence must be one of {', '.join(PRESENCE)}", code="invalid_presence"
            )
        now = now or utcnow()
        with transaction(self._sessions) as s:
            user = s.get(StaffUser, user_id, with_for_update=True)
            if user is None:
                return
            user.presence = presence
            user.presence_at = now
            if presence != "online":
                s.execute(
                    update(Handoff)
                    .where(Handoff.offered_to == user_id, Handoff.status == HandoffStatus.WAITING.value)
                    .values(
                        offered_to=None, offered_at=None, offer_note=f"{user.display_name} went {presence}"
                    )
                )
