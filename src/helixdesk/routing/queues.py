"""The queues people work, and which queues each staff role works (in priority order).

| role                 | works the queues              |
|----------------------|-------------------------------|
| agent                | general                       |
| senior               | senior, general               |
| fraud                | fraud                         |
| relationship_manager | relationship_manager          |
| supervisor           | every queue (to watch, help)  |
| admin                | none                          |
"""

from __future__ import annotations

from collections.abc import Iterable

QUEUES: tuple[str, ...] = ("fraud", "senior", "relationship_manager", "general")

ROLE_QUEUES: dict[str, tuple[str, ...]] = {
    "agent": ("general",),
    "senior": ("senior", "general"),
    "fraud": ("fraud",),
    "relationship_manager": ("relationship_manager",),
    "supervisor": QUEUES,
    "admin": (),
}

# Roles that take conversations (supervisors may step in, but are not routed work).
WORKING_ROLES = frozenset({"agent", "senior", "fraud", "relationship_manager"})


def queues_for(roles: Iterable[str]) -> tuple[str, ...]:
    """The queues a person with these roles may see and claim from, in priority order."""
    allowed = {q for r in roles for q in ROLE_QUEUES.get(r, ())}
    return tuple(q for q in QUEUES if q in allowed)
