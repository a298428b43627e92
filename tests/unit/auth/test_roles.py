"""Roles: the knowledge editor and the operator are roles of their own; supervisors and admins may do
what they may."""

from __future__ import annotations

import pytest

from helixdesk.auth.demo import DEMO_STAFF
from helixdesk.auth.roles import (
    ROLES,
    can_edit_knowledge,
    can_label,
    can_manage_incidents,
    can_release_models,
    check_roles,
)
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


def test_the_operator_is_a_role_without_queues_with_a_demo_account():
    assert "operator" in ROLES
    assert check_roles([" Operator"]) == ["operator"]
    assert queues_for(["operator"]) == ()
    assert [d.username for d in DEMO_STAFF if d.roles == ("operator",)] == ["ops.zhou"]


@pytest.mark.parametrize(
    ("roles", "may"),
    [
        (["operator"], True),
        (["supervisor"], True),
        (["admin"], True),
        (["agent", "operator"], True),
        (["agent"], False),
        (["knowledge_editor"], False),
        (["manager"], False),
        (["qa_reviewer"], False),
        (["senior", "fraud", "relationship_manager"], False),
    ],
)
def test_who_may_manage_incidents(roles, may):
    assert can_manage_incidents(roles) is may


def test_the_annotator_is_a_role_without_queues_with_two_demo_accounts():
    assert "annotator" in ROLES
    assert check_roles(["Annotator "]) == ["annotator"]
    assert queues_for(["annotator"]) == ()
    assert [d.username for d in DEMO_STAFF if d.roles == ("annotator",)] == ["ann.he", "ann.ma"]


@pytest.mark.parametrize(
    ("roles", "label", "release"),
    [
        (["annotator"], True, False),
        (["supervisor"], True, True),
        (["admin"], False, True),
        (["agent"], False, False),
        (["qa_reviewer", "knowledge_editor", "manager", "operator"], False, False),
    ],
)
def test_who_labels_and_who_releases_models(roles, label, release):
    assert can_label(roles) is label
    assert can_release_models(roles) is release
