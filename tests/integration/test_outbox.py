"""The demo outbox as an operator sees it: `helixdesk outbox list` and the /demo/outbox page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from helixdesk.audit import AuditLog
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.identity import VerificationService, load_identity_policy
from helixdesk.notifications import Notification, OutboxNotifier
from helixdesk.privacy.keys import resolve_keyring
from tests.bankfiles import three_customers
from tests.cliproc import helixdesk_cli

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


def _send_codes(url: str) -> None:
    """Seed three customers and send each a real code through the service.

    The outbox is encrypted with the development key next to the database, as the server and CLI
    resolve it for the same database URL.
    """
    keyring = resolve_keyring(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, three_customers())
    service = VerificationService(
        sessions=sessions,
        notifier=OutboxNotifier(sessions=sessions, keyring=keyring),
        bank=DemoBankConnector(session_factory=sessions),
        policy=load_identity_policy(),
        secret=b"integration-secret-0123456789abcdef",
        audit=AuditLog(key=b"integration-audit-key-0123456789"),
    )
    for i, ref in enumerate(("C000001", "C000002", "C000003")):
        service.start(conversation_id=f"conv-{i}", customer_ref=ref, now=T0 + timedelta(minutes=i))
    OutboxNotifier(sessions=sessions, keyring=keyring).send(
        Notification(
            customer_ref="C000003",
            channel="email",
            destination="sam3@example.com",
            body="<script>alert(1)</script>",
            purpose="test",
            created_at=T0 - timedelta(days=1),
        )
    )
    engine.dispose()


@pytest.fixture
def run(tmp_path):
    helixdesk = helixdesk_cli(
        tmp_path, env={"HELIXDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}, timeout=120
    )

    return helixdesk


def test_outbox_list_cli(run, tmp_path):
    assert run("db", "upgrade").returncode == 0
    empty = run("outbox", "list")
    assert empty.returncode == 0 and "empty" in empty.stdout
    _send_codes(f"sqlite:///{tmp_path / 'cli.db'}")

    listed = run("outbox", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)
    assert [e["customer_ref"] for e in entries] == ["C000003", "C000002", "C000001", "C000003"]
    assert entries[1]["destination"] == "+852 ****4567" and "驗證碼" in entries[1]["body"]

    one = json.loads(run("outbox", "list", "--customer", "C000001", "--limit", "5", "--json").stdout)
    assert len(one) == 1 and one[0]["destination"] == "138****5678" and "验证码" in one[0]["body"]

    table = run("outbox", "list", "--limit", "1")
    assert table.returncode == 0 and "C000003" in table.stdout and "C000002" not in table.stdout
    assert run("outbox", "list", "--limit", "0").returncode == 2


@pytest.fixture
def app_for(sqlite_url, settings_for):
    def build(**overrides: object) -> TestClient:
        return TestClient(create_app(settings_for(sqlite_url, **overrides)))

    return build


def test_outbox_page_shows_the_codes(app_for, sqlite_url):
    _send_codes(sqlite_url)
    with app_for() as client:
        page = client.get("/demo/outbox")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "演示发件箱" in html and "Demo outbox" in html
        assert "138****5678" in html and "+8613812345678" not in html
        assert "【示例银行】" in html and "【示例銀行】" in html and "[Demo Bank]" in html
        assert html.count('class="notification"') == 4
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
        assert "cdn" not in html.lower() and "https://" not in html

        only = client.get("/demo/outbox", params={"customer": "C000002"}).text
        assert "【示例銀行】" in only and "【示例银行】" not in only
        assert only.count('class="notification"') == 1 and 'data-customer="C000002"' in only
        none = client.get("/demo/outbox", params={"customer": "C999999"}).text
        assert "No notifications yet" in none


def test_outbox_page_is_404_when_demo_pages_are_off(app_for, sqlite_url):
    _send_codes(sqlite_url)
    with app_for(demo_pages=False) as client:
        r = client.get("/demo/outbox")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
        assert "示例" not in r.text
