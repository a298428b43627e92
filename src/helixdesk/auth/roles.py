"""Staff roles and what each may do.

| role                 | works the queues              | sees dashboards, QA, audit | manages users, settings |
|----------------------|-------------------------------|----------------------------|-------------------------|
| agent                | general                       | no                         | no                      |
| senior               | senior, general               | no                         | no                      |
| fraud                | fraud                         | no                         | no                      |
| relationship_manager | relationship_manager          | no                         | no                      |
| supervisor           | every queue (to watch, help)  | yes                        | no                      |
| qa_reviewer          | none                          | QA review and coaching     | no                      |
| knowledge_editor     | none                          | the knowledge workspace    | no                      |
| manager              | none                          | the analytics dashboards   | no                      |
| operator             | none                          | the incident register      | no                      |
| admin                | none                          | no                         | yes                     |

The knowledge workspace (upload, edit, retire, date and roll back the knowledge base) is open to
knowledge editors, supervisors and admins (`can_edit_knowledge`). The incident register (open,
edit and resolve outages, app errors and delayed batches that the bot tells affected customers
about) is open to operators, supervisors and admins (`can_manage_incidents`).

The queues themselves and which role works which are routing's (`helixdesk.routing.queues`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Role(enum.StrEnum):
    AGENT = "agent"
    SENIOR = "senior"
    FRAUD = "fraud"
    RELATIONSHIP_MANAGER = "relationship_manager"
    SUPERVISOR = "supervisor"
    QA_REVIEWER = "qa_reviewer"
    KNOWLEDGE_EDITOR = "knowledge_editor"
    MANAGER = "manager"
    OPERATOR = "operator"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)


def check_roles(roles: Iterable[str]) -> list[str]:
    """Validate a list of role names; unknown names raise ValueError naming the valid ones."""
    out: list[str] = []
    for r in roles:
        name = r.strip().lower()
        if name not in ROLES:
            raise ValueError(f"unknown role {r!r}; roles are: {', '.join(ROLES)}")
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f"give at least one role ({', '.join(ROLES)})")
    return out


def is_supervisor(roles: Iterable[str]) -> bool:
    return Role.SUPERVISOR in set(roles)


def is_admin(roles: Iterable[str]) -> bool:
    return Role.ADMIN in set(roles)


def is_qa_reviewer(roles: Iterable[str]) -> bool:
    """QA reviewers and supervisors review conversations and the QA engine's findings."""
    return bool({Role.QA_REVIEWER, Role.SUPERVISOR} & set(roles))


KNOWLEDGE_EDITING_ROLES: tuple[str, ...] = (Role.KNOWLEDGE_EDITOR, Role.SUPERVISOR, Role.ADMIN)


def can_edit_knowledge(roles: Iterable[str]) -> bool:
    """Knowledge editors, supervisors and admins work in the knowledge workspace."""
    return bool(set(KNOWLEDGE_EDITING_ROLES) & set(roles))


INCIDENT_ROLES: tuple[str, ...] = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
# Supervisors and admins edit the bank's lifecycle strategies.
STRATEGY_ROLES: tuple[str, ...] = (Role.SUPERVISOR, Role.ADMIN)


def can_manage_incidents(roles: Iterable[str]) -> bool:
    """Operators, supervisors and admins open, edit and resolve incidents."""
    return bool(set(INCIDENT_ROLES) & set(roles))
