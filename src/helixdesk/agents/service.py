"""Agents' working state: presence, open chats, emotional load (for routing and supervisors)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.auth.models import PresenceChange, StaffUser
from helixdesk.auth.service import PRESENCE
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.availability import AgentLoad, agent_states
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.routing.config import Wellbeing


class AgentDirectory:
    def __init__(self, *, sessions: sessionmaker[Session], wellbeing: Wellbeing) -> None:
        self._sessions = sessions
        self.wellbeing = wellbeing

    def loads(self, *, now: datetime | None = None) -> list[AgentLoad]:
        with reading(self._sessions) as s:
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
            if user.presence != presence:
                s.add(PresenceChange(user_id=user.id, presence=presence, at=now))
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
