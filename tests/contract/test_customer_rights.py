"""Export and erasure of one customer's data on SQLite and PostgreSQL; other customers untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from helixdesk.actions.models import Dispute
from helixdesk.audit import Actor, AuditLog, AuditQuery, search, verify_chain
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.models import BankCustomer
from helixdesk.db.session import transaction
from helixdesk.rights import RightsCustomerNotFoundError, erase_customer, export_customer
from tests.bankfiles import three_customers
from tests.personal_data import cells_mentioning, seed

KEY = b"rights-audit-key-0123456789abcdef0123"
AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
OPERATOR = Actor.system("cli:dpo")


@pytest.fixture
def two_customers(sessions):
    audit = AuditLog(key=KEY)
    with transaction(sessions) as s:
        import_bank_file(s, three_customers())
    one = seed(sessions, audit, "C000001", marker="alpha-private", at=AT)
    two = seed(sessions, audit, "C000002", marker="beta-private", at=AT + timedelta(hours=1))
    return audit, one, two


def test_export_holds_everything_about_the_customer_and_nothing_else(sessions, two_customers):
    audit, one, _ = two_customers
    data = export_customer(sessions, audit, "C000001", actor=OPERATOR, reason="request R-17")
    assert data["format"] == "helixdesk.customer_export.v1" and data["customer_ref"] == "C000001"
    assert [c["id"] for c in data["customers"]] == [one["customer_id"]]
    assert data["customers"][0]["channel_identities"][0]["address"] == "openid-alpha-private"
    (conv,) = data["conversations"]
    assert [m["text"] for m in conv["messages"]] == [f"alpha-private message {i}" for i in (1, 2, 3)]
    assert conv["dialogue_state"] == {"slots": {"note": "alpha-private"}}
    assert [(e["version"], e["language"]) for e in conv["incidents_explained"]] == [(1, "zh-Hans")]
    assert data["issues"][0]["facts"] == {"note": "alpha-private"}
    assert len(data["verification"]["challenges"]) == 1
    assert "code_hmac" not in data["verification"]["challenges"][0]
    assert data["notifications"][0]["body"].startswith("alpha-private")
    assert data["action_runs"][0]["summary"] == "alpha-private"
    assert data["disputes"][0]["ref"] == "D-alpha-private"
    assert [(a["platform"], a["author_id"]) for a in data["social"]] == [("weibo", "a-alpha-private")]
    assert [e["action"] for e in data["access_log"]] == ["action.get_balance"]
    assert "core banking system" in data["not_held_here"]
    assert "beta-private" not in str(data) and "C000002" not in str(data)
    with sessions() as s:
        (logged,) = search(s, AuditQuery(action="customer.exported"))
    assert logged.reason == "request R-17" and logged.customer_ref == "C000001"


def test_erasure_leaves_nothing_of_the_customer_and_spares_the_others(engine, sessions, two_customers):
    audit, one, _ = two_customers
    before_other = export_customer(sessions, audit, "C000002", actor=OPERATOR)
    report = erase_customer(sessions, audit, "C000001", actor=OPERATOR, reason="request R-18")
    assert report.deleted["conversations"] == 1 and report.deleted["messages"] == 3
    assert report.deleted["customers"] == 1 and report.deleted["notifications"] == 1
    assert report.deleted["incident_explanations"] == 1
    assert report.deleted["wechat_users"] == 1 and report.deleted["wechat_deliveries"] == 1
    assert report.deleted["social_authors"] == 1 and report.deleted["social_deliveries"] == 1
    assert report.kept == {"disputes": 1, "audit_entries": 1}

    assert (
        cells_mentioning(engine, ["alpha-private", "C000001", one["customer_id"], one["conversation_id"]])
        == []
    )
    with sessions() as s:
        # Kept by design: the dispute (a bank case record) and the audit entries; the core bank.
        assert s.scalar(select(Dispute.ref).where(Dispute.customer_ref == "C000001")) == "D-alpha-private"
        assert s.scalar(select(BankCustomer.ref).where(BankCustomer.ref == "C000001")) == "C000001"
        erased = search(s, AuditQuery(action="customer.erased"))[0]
    assert erased.details["deleted"]["messages"] == 3 and erased.reason == "request R-18"

    after_other = export_customer(sessions, audit, "C000002", actor=OPERATOR)
    for key in (
        "customers",
        "conversations",
        "issues",
        "verification",
        "notifications",
        "action_runs",
        "disputes",
    ):
        assert after_other[key] == before_other[key], key
    assert verify_chain(sessions, KEY).ok

    with pytest.raises(RightsCustomerNotFoundError):
        erase_customer(sessions, audit, "C000001", actor=OPERATOR)
    with pytest.raises(RightsCustomerNotFoundError) as e:
        export_customer(sessions, audit, "C999999", actor=OPERATOR)
    assert e.value.code == "customer_not_found"


def test_an_anonymous_visitor_is_named_by_their_helixdesk_id(engine, sessions, two_customers):
    audit, one, _ = two_customers
    data = export_customer(sessions, audit, one["customer_id"], actor=OPERATOR)
    assert data["customer_ref"] == "C000001" and len(data["conversations"]) == 1
    erase_customer(sessions, audit, one["customer_id"], actor=OPERATOR)
    assert cells_mentioning(engine, ["alpha-private", one["customer_id"]]) == []
