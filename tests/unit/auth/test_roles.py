"""Roles: the knowledge editor is a role of its own; supervisors and admins may do what it may."""

from __future__ import annotations

import pytest

from helixdesk.auth.demo import DEMO_STAFF
from helixdesk.auth.roles import ROLES, can_edit_knowledge, check_roles
from helixdesk.routing.queues import queues_for


def test_the_knowledge_editor_is_a_role_without_queues():
    assert "knowledge_editor" in ROLES
    assert check_roles(["Knowledge_Editor "]) == ["knowledge_editor"]
    assert queues_for(["knowledge_editor"]) == ()
    assert any(d.roles == ("knowledge_editor",) for d in DEMO_STAFF)


@pytest.mark.parametrize(
    ("roles", "may"),
    [
        (["knowledge_editor"], True),
        (["supervisor"], True),
        (["admin"], True),
        (["agent", "knowledge_editor"], True),
        (["agent"], False),
        (["senior", "fraud", "relationship_manager"], False),
        (["qa_reviewer"], False),
    ],
)
def test_who_may_edit_the_knowledge_base(roles, may):
    assert can_edit_knowledge(roles) is may
