"""Which online person to offer a waiting conversation to.

1. The customer's own relationship manager, when the conversation is for relationship managers and
   they are online with room for it.
2. Otherwise qualified agents: online, working the queue, speaking the customer's language, below
   their capacity. Agents with the product skill come first.
3. Wellbeing: an intense conversation is not offered to someone who has just had several intense
   ones in a row while a qualified colleague is free.
4. Then the lowest emotional load, then the fewest open chats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from helixdesk.auth.roles import WORKING_ROLES, queues_for
from helixdesk.handoff.policy import Wellbeing
from helixdesk.routing.priority import RoutingDecision


@dataclass(frozen=True, slots=True)
class AgentState:
    id: str
    display_name: str
    roles: tuple[str, ...]
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    employee_code: str | None
    presence: str
    max_concurrent: int
    active: int
    load: float
    intense_in_a_row: int

    @property
    def free(self) -> bool:
        return self.presence == "online" and self.active < self.max_concurrent

    def works(self, queue: str) -> bool:
        return bool(set(self.roles) & WORKING_ROLES) and queue in queues_for(self.roles)


@dataclass(frozen=True, slots=True)
class Offer:
    agent_id: str | None
    note: str


def pick_agent(
    decision: RoutingDecision,
    agents: Sequence[AgentState],
    *,
    negativity: float,
    relationship_manager: str | None,
    wellbeing: Wellbeing,
) -> Offer:
    language = decision.skills[0] if decision.skills else "zh"
    if decision.queue == "relationship_manager" and relationship_manager:
        own = next((a for a in agents if a.employee_code == relationship_manager), None)
        if own is not None and own.free and own.works(decision.queue):
            return Offer(own.id, f"their relationship manager {own.display_name} is online")
        if own is not None:
            note = f"their relationship manager {own.display_name} is {own.presence if own.presence != 'online' else 'busy'}"
        else:
            note = "their relationship manager has no account here"
    else:
        note = ""
    qualified = [a for a in agents if a.free and a.works(decision.queue) and language in a.languages]
    if not qualified:
        return Offer(None, _join(note, "no qualified agent is free; waiting in the queue"))
    area = decision.skills[1] if len(decision.skills) > 1 else None
    if area and any(area in a.skills for a in qualified):
        qualified = [a for a in qualified if area in a.skills]
    if negativity >= wellbeing.intense:
        rested = [a for a in qualified if a.intense_in_a_row < wellbeing.max_intense_in_a_row]
        if rested and len(rested) < len(qualified):
            note = _join(note, "skipped agents after a run of intense conversations")
        qualified = rested or qualified
    best = min(qualified, key=lambda a: (a.load, a.active / max(1, a.max_concurrent), a.display_name))
    return Offer(best.id, _join(note, f"offered to {best.display_name} (load {best.load:.2f})"))


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
