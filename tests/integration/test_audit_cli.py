"""Action runs and identity outcomes land in the audit log; `helixdesk audit verify|search` read it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from helixdesk.actions.policies import load_action_policies
from helixdesk.actions.runner import ActionRunner
from helixdesk.audit import AuditLog
from helixdesk.audit.keys import resolve_audit_key
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.identity import VerificationService, load_identity_policy
from helixdesk.notifications import OutboxNotifier, list_outbox
from helixdesk.packs.loader import load_pack
from tests.bankfiles import three_customers
from tests.cliproc import helixdesk_cli

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


SECRET = "cli-test-secret-0123456789abcdef0123"


@pytest.fixture
def setup(tmp_path, keyring):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    env = {"HELIXDESK_DATABASE_URL": url, "HELIXDESK_SECRET_KEY": SECRET}
    helixdesk = helixdesk_cli(tmp_path, env=env)
    assert helixdesk("db", "upgrade").returncode == 0
    settings = Settings(_env_file=None, database_url=url, secret_key=SECRET)  # type: ignore[call-arg]
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    audit = AuditLog(key=resolve_audit_key(settings))
    with transaction(sessions) as s:
        import_bank_file(s, three_customers())
    bank = DemoBankConnector(session_factory=sessions)
    runner = ActionRunner(
        bank=bank, sessions=sessions, policies=load_action_policies(load_pack("retail_bank")), audit=audit
    )
    identity = VerificationService(
        sessions=sessions,
        notifier=OutboxNotifier(sessions=sessions, keyring=keyring),
        bank=bank,
        policy=load_identity_policy(),
        secret=SECRET,
        audit=audit,
    )
    yield helixdesk, engine, sessions, runner, identity, keyring
    engine.dispose()


def test_actions_and_verification_are_audited_and_the_chain_verifies(setup):
    helixdesk, engine, sessions, runner, identity, keyring = setup
    identity.start(conversation_id="conv-1", customer_ref="C000001")
    identity.verify(conversation_id="conv-1", code="000000")
    code = list_outbox(sessions, keyring, customer_ref="C000001", limit=1)[0].body
    typed = "".join(ch for ch in code if ch.isdigit())[:6]
    identity.verify(conversation_id="conv-1", code=typed)
    runner.run("get_balance", customer_ref="C000001", params={}, conversation_id="conv-1")

    ok = helixdesk("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "audit chain OK: 4 entries" in ok.stdout

    found = helixdesk("audit", "search", "--customer", "C000001", "--json")
    entries = json.loads(found.stdout)
    assert [e["action"] for e in entries] == [
        "action.get_balance",
        "identity.verified",
        "identity.wrong_code",
        "identity.code_sent",
    ]
    verified = entries[1]
    assert verified["actor"] == {"kind": "customer", "id": "C000001", "ip": None, "channel": None}
    assert verified["target"] == {"kind": "conversation", "id": "conv-1"}
    assert verified["details"]["via"] == "bot"
    balance = entries[0]
    assert balance["actor"]["kind"] == "bot" and balance["target"] == {"kind": "customer", "id": "C000001"}
    assert balance["details"]["status"] == "ok" and balance["details"]["conversation_id"] == "conv-1"
    assert typed not in found.stdout  # the code itself never reaches the audit log

    only_identity = json.loads(helixdesk("audit", "search", "--action", "identity.*", "--json").stdout)
    assert len(only_identity) == 3
    by_bot = json.loads(helixdesk("audit", "search", "--actor", "bot", "--json").stdout)
    assert [e["action"] for e in by_bot] == ["action.get_balance"]
    assert "audit log (newest first)" in helixdesk("audit", "search", "--limit", "1").stdout

    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET reason = 'edited' WHERE seq = 2"))
    broken = helixdesk("audit", "verify")
    assert broken.returncode == 2
    assert "error[audit_chain_broken]" in broken.stderr and "row 2" in broken.stderr


def test_bad_filters_are_refused(setup):
    helixdesk = setup[0]
    bad = helixdesk("audit", "search", "--actor", "robot:1")
    assert bad.returncode == 2 and "error[invalid_filter]" in bad.stderr
    bad_date = helixdesk("audit", "search", "--since", "yesterday")
    assert bad_date.returncode == 2 and "error[bad_date]" in bad_date.stderr
    assert "the audit log is empty" in helixdesk("audit", "verify").stdout
