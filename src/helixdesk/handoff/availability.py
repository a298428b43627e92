"""Who can take a conversation now: every enabled person with a working role, their open
conversations and their emotional load (`helixdesk.routing.wellbeing`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.auth.models import StaffUser
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.routing.assign import AgentState
from helixdesk.routing.config import Wellbeing
from helixdesk.routing.queues import WORKING_ROLES
from helixdesk.routing.wellbeing import Handled, Load, emotional_load


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
