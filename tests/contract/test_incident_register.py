"""The incident register on SQLite and PostgreSQL: create, update and resolve with a version and an
audit entry each, refusals that store nothing, the incidents a turn reads as active at a given time,
and the explanations counted per incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helixdesk.audit import AuditLog, AuditQuery, search, verify_chain
from helixdesk.conversations.models import Conversation, Customer
from helixdesk.db.session import reading, transaction
from helixdesk.incidents.checks import IncidentDraft
from helixdesk.incidents.errors import (
    IncidentChangedError,
    IncidentNotFoundError,
    IncidentResolvedError,
    InvalidIncidentError,
)
from helixdesk.incidents.models import IncidentVersionRow
from helixdesk.incidents.register import Author, IncidentRegister, active_incidents, record_explanations

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
KEY = b"k" * 32
OPS = Author("u-ops", "周航", ip="10.0.0.7")
DRAFT = IncidentDraft(
    kind="app_error",
    title={"zh-Hans": "手机银行登录异常", "en": "App sign-in failing"},
    explanation={"zh-Hans": "部分客户登录手机银行时提示系统繁忙。"},
    products=["mobile_app"],
    channels=["app", "web"],
    regions=["上海"],
    started_at=T0 - timedelta(minutes=30),
    expected_fix_at=T0 + timedelta(hours=2),
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def register(sessions, clock) -> IncidentRegister:
    return IncidentRegister(sessions=sessions, audit=AuditLog(key=KEY, clock=clock), clock=clock)


def audit_actions(sessions, incident_id: str) -> list[str]:
    with reading(sessions) as s:
        entries = search(s, AuditQuery(target_kind="incident", target_id=incident_id))
    return [e.action for e in reversed(entries)]


def conversation(sessions, channel: str = "app") -> str:
    with transaction(sessions) as s:
        customer = Customer()
        s.add(customer)
        s.flush()
        conv = Conversation(customer_id=customer.id, channel=channel)
        s.add(conv)
        s.flush()
        return conv.id


def test_an_incident_is_created_with_its_first_version_and_an_audit_entry(register, sessions):
    made = register.create(OPS, DRAFT)
    assert made["status"] == "open" and made["version"] == 1 and made["active"] is True
    assert made["title"] == {"zh-Hans": "手机银行登录异常", "en": "App sign-in failing"}
    assert made["products"] == ["mobile_app"] and made["channels"] == ["web", "app"]
    assert made["started_at"] == DRAFT.started_at.isoformat() and made["explained"] == 0
    assert made["created_by"] == "u-ops"
    [version] = made["versions"]
    assert version["action"] == "create" and version["actor_name"] == "周航"
    assert version["state"]["regions"] == ["上海"]
    assert audit_actions(sessions, made["id"]) == ["incident.created"]
    with reading(sessions) as s:
        [entry] = search(s, AuditQuery(target_id=made["id"]))
    assert entry.actor.id == "u-ops" and entry.actor.ip == "10.0.0.7" and entry.details["version"] == 1


def test_an_update_writes_a_version_of_the_whole_incident_and_a_no_op_writes_none(register, sessions, clock):
    made = register.create(OPS, DRAFT)
    clock.now = T0 + timedelta(minutes=10)
    later = T0 + timedelta(hours=4)
    changed = register.update(OPS, made["id"], {"expected_fix_at": later, "status": "monitoring"}, version=1)
    assert changed["version"] == 2 and changed["status"] == "monitoring"
    assert changed["expected_fix_at"] == later.isoformat()
    assert changed["title"] == made["title"]  # what was not named stays
    assert changed["versions"][0]["summary"] == "changed: expected_fix_at, status"
    assert changed["versions"][0]["state"]["status"] == "monitoring"
    assert changed["versions"][1]["state"]["status"] == "open"  # the earlier state is kept
    same = register.update(OPS, made["id"], {"expected_fix_at": later})
    assert same["version"] == 2 and len(same["versions"]) == 2
    assert audit_actions(sessions, made["id"]) == ["incident.created", "incident.updated"]


def test_refused_changes_store_nothing(register, sessions):
    made = register.create(OPS, DRAFT)
    with pytest.raises(InvalidIncidentError):
        register.update(OPS, made["id"], {"expected_fix_at": DRAFT.started_at - timedelta(hours=1)})
    with pytest.raises(InvalidIncidentError):
        register.update(OPS, made["id"], {"products": ["mortgage"]})
    with pytest.raises(IncidentChangedError):
        register.update(OPS, made["id"], {"kind": "outage"}, version=7)
    with pytest.raises(IncidentNotFoundError):
        register.update(OPS, "no-such-incident", {"kind": "outage"})
    with pytest.raises(InvalidIncidentError):
        register.create(OPS, IncidentDraft(kind="outage", title={}, explanation={"en": "x"}))
    assert register.get(made["id"])["version"] == 1
    assert len(register.incidents()) == 1
    assert audit_actions(sessions, made["id"]) == ["incident.created"]
    with reading(sessions) as s:
        assert s.scalar(select(func.count()).select_from(IncidentVersionRow)) == 1


def test_a_resolved_incident_ends_then_and_is_changed_no_more(register, sessions, clock):
    made = register.create(OPS, DRAFT)
    clock.now = T0 + timedelta(hours=1)
    done = register.resolve(OPS, made["id"], note="restarted the sign-in service")
    assert done["status"] == "resolved" and done["resolved_at"] == clock.now.isoformat()
    assert done["active"] is False and done["version"] == 2
    assert done["versions"][0]["summary"] == "resolved: restarted the sign-in service"
    with pytest.raises(IncidentResolvedError):
        register.update(OPS, made["id"], {"kind": "outage"})
    with pytest.raises(IncidentResolvedError):
        register.resolve(OPS, made["id"])
    assert audit_actions(sessions, made["id"]) == ["incident.created", "incident.resolved"]
    assert verify_chain(sessions, KEY).ok


def test_a_turn_reads_the_incidents_active_at_its_time(register, sessions, clock):
    first = register.create(OPS, DRAFT)
    planned = register.create(
        OPS,
        IncidentDraft(
            kind="other",
            title={"en": "Maintenance"},
            explanation={"en": "Transfers pause for maintenance."},
            products=["transfer"],
            started_at=T0 + timedelta(hours=3),
            expected_fix_at=T0 + timedelta(hours=4),
        ),
    )
    clock.now = T0 + timedelta(hours=1)
    register.resolve(OPS, first["id"])

    def active_at(when: datetime) -> list[str]:
        with reading(sessions) as s:
            return [i.id for i in active_incidents(s, when)]

    assert active_at(T0 - timedelta(hours=1)) == []  # before anything started
    assert active_at(T0) == [first["id"]]
    assert active_at(T0 + timedelta(hours=1)) == []  # resolved then
    assert active_at(T0 + timedelta(hours=3)) == [planned["id"]]
    called_off = register.create(
        OPS,
        IncidentDraft(
            kind="other",
            title={"en": "Card maintenance"},
            explanation={"en": "Card payments pause."},
            started_at=T0 + timedelta(hours=5),
        ),
    )
    ended = register.resolve(OPS, called_off["id"])  # before it started: it ends at its start
    assert ended["resolved_at"] == ended["started_at"]
    assert called_off["id"] not in active_at(T0 + timedelta(hours=2)) + active_at(T0 + timedelta(hours=5))
    with reading(sessions) as s:
        [incident] = active_incidents(s, T0)
    assert incident.products == {"mobile_app"} and incident.regions == {"上海"}
    assert incident.status == "resolved" and incident.version == 2
    assert incident.explanation == {"zh-Hans": "部分客户登录手机银行时提示系统繁忙。"}


def test_explanations_are_counted_per_incident_and_listed(register, sessions, clock):
    app = register.create(OPS, DRAFT)
    other = register.create(
        OPS, IncidentDraft(kind="outage", title={"en": "Cards"}, explanation={"en": "Card payments fail."})
    )
    convs = [conversation(sessions) for _ in range(3)]
    with transaction(sessions) as s:
        for conv in convs:
            record_explanations(
                s, [(app["id"], 1)], conversation_id=conv, message_id="m-1", language="zh-Hans", at=T0
            )
        record_explanations(
            s, [(other["id"], 1)], conversation_id=convs[0], message_id="m-1", language="en", at=T0
        )
    counts = {i["id"]: i["explained"] for i in register.incidents()}
    assert counts == {app["id"]: 3, other["id"]: 1}
    assert register.get(app["id"])["explained"] == 3
    clock.now = T0 + timedelta(hours=1)
    register.resolve(OPS, other["id"])
    assert [i["id"] for i in register.incidents(status="active")] == [app["id"]]
    assert [i["id"] for i in register.incidents(status="resolved")] == [other["id"]]
    assert [i["id"] for i in register.incidents()] == [app["id"], other["id"]]  # open ones first
    with pytest.raises(InvalidIncidentError):
        register.incidents(status="closed")
