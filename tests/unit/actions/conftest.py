"""A seeded demo bank on SQLite and an `ActionRunner` over it, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from helixdesk.actions.policies import load_action_policies
from helixdesk.actions.runner import ActionRunner
from helixdesk.audit import AuditLog
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.packs.loader import load_pack

AS_OF = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai, a Monday


@pytest.fixture
def bank_sessions(sqlite_url):
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(40, as_of=AS_OF))
    yield sessions
    engine.dispose()


@pytest.fixture
def bank(bank_sessions):
    return DemoBankConnector(session_factory=bank_sessions)


@pytest.fixture
def policies():
    return load_action_policies(load_pack("retail_bank"))


@pytest.fixture
def runner(bank, bank_sessions, policies):
    return ActionRunner(
        bank=bank, sessions=bank_sessions, policies=policies, audit=AuditLog(key=b"k" * 32), clock=lambda: NOW
    )


@pytest.fixture
def customers(bank):
    return [f"C{i:06d}" for i in range(1, 41)]
