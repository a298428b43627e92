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

from helixdesk.routing.config import Wellbeing
from helixdesk.routing.priority import RoutingDecision
from helixdesk.routing.queues import WORKING_ROLES, queues_for


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
    # The same, as codes the console words in each language: (code, {values}).
    reasons: tuple[tuple[str, dict[str, str]], ...] = ()


def pick_agent(
    decision: RoutingDecision,
    agents: Sequence[AgentState],
    *,
    negativity: float,
    relationship_manager: str | None,
    wellbeing: Wellbeing,
) -> Offer:
    language = decision.skills[0] if decision.skills else "zh"
    notes: list[tuple[str, dict[str, str]]] = []
    if decision.queue == "relationship_manager" and relationship_manager:
        own = next((a for a in agents if a.employee_code == relationship_manager), None)
        if own is not None and own.free and own.works(decision.queue):
            return _offer(own, [("own_rm_online", {"name": own.display_name})])
        if own is not None:
            status = own.presence if own.presence != "online" else "busy"
            notes.append(("own_rm_unavailable", {"name": own.display_name, "status": status}))
        else:
            notes.append(("own_rm_missing", {}))
    qualified = [a for a in agents if a.free and a.works(decision.queue) and language in a.languages]
    if not qualified:
        notes.append(("nobody_free", {}))
        return Offer(None, _english(notes), tuple(notes))
    area = decision.skills[1] if len(decision.skills) > 1 else None
    if area and any(area in a.skills for a in qualified):
        qualified = [a for a in qualified if area in a.skills]
    if negativity >= wellbeing.intense:
        rested = [a for a in qualified if a.intense_in_a_row < wellbeing.max_intense_in_a_row]
        if rested and len(rested) < len(qualified):
            notes.append(("skipped_tired", {}))
        qualified = rested or qualified
    best = min(qualified, key=lambda a: (a.load, a.active / max(1, a.max_concurrent), a.display_name))
    notes.append(("offered", {"name": best.display_name, "load": f"{best.load:.2f}"}))
    return _offer(best, notes)


_ENGLISH = {
    "own_rm_online": "their relationship manager {name} is online",
    "own_rm_unavailable": "their relationship manager {name} is {status}",
    "own_rm_missing": "their relationship manager has no account here",
    "nobody_free": "no qualified agent is free; waiting in the queue",
    "skipped_tired": "skipped agents after a run of intense conversations",
    "offered": "offered to {name} (load {load})",
}


def _english(notes: list[tuple[str, dict[str, str]]]) -> str:
    return "; ".join(_ENGLISH[code].format(**values) for code, values in notes)


def _offer(agent: AgentState, notes: list[tuple[str, dict[str, str]]]) -> Offer:
    return Offer(agent.id, _english(notes), tuple(notes))
