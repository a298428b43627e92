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
| annotator            | none                          | the labelling queue        | no                      |
| admin                | none                          | no                         | yes                     |

The knowledge workspace (upload, edit, retire, date and roll back the knowledge base) is open to
knowledge editors, supervisors and admins (`can_edit_knowledge`). The incident register (open,
edit and resolve outages, app errors and delayed batches that the bot tells affected customers
about) is open to operators, supervisors and admins (`can_manage_incidents`). The labelling queue
(confirm or correct what the models made of sampled customer messages, masked) is open to
annotators and supervisors (`can_label`); supervisors settle the labels annotators disagree on.
The model registry (reports, shadow runs, promotion and rollback) is open to supervisors and admins
(`can_release_models`); only supervisors read the customer messages a candidate disagreed on.

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
    ANNOTATOR = "annotator"
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


LABELLING_ROLES: tuple[str, ...] = (Role.ANNOTATOR, Role.SUPERVISOR)
MODEL_ROLES: tuple[str, ...] = (Role.SUPERVISOR, Role.ADMIN)


def can_label(roles: Iterable[str]) -> bool:
    """Annotators and supervisors work in the labelling queue."""
    return bool(set(LABELLING_ROLES) & set(roles))


def can_release_models(roles: Iterable[str]) -> bool:
    """Supervisors and admins read the model registry, run shadows, promote and roll back."""
    return bool(set(MODEL_ROLES) & set(roles))
