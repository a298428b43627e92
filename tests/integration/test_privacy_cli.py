"""`helixdesk retention run` and `helixdesk customers export|erase` as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from helixdesk.audit import AuditLog
from helixdesk.audit.keys import resolve_audit_key
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from tests.cliproc import helixdesk_cli
from tests.personal_data import seed

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


SECRET = "privacy-cli-secret-0123456789abcdef"


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'privacy.db'}"
    helixdesk = helixdesk_cli(tmp_path, env={"HELIXDESK_DATABASE_URL": url, "HELIXDESK_SECRET_KEY": SECRET})
    assert helixdesk("db", "upgrade").returncode == 0
    engine = make_engine(url)
    audit = AuditLog(key=resolve_audit_key(Settings(_env_file=None, database_url=url, secret_key=SECRET)))  # type: ignore[call-arg]
    now = datetime.now(UTC)
    seed(make_session_factory(engine), audit, "C000001", marker="gamma-note", at=now - timedelta(days=800))
    seed(make_session_factory(engine), audit, "C000002", marker="delta-note", at=now - timedelta(hours=2))
    engine.dispose()
    return helixdesk, tmp_path


def test_retention_dry_run_then_run(cli):
    helixdesk, _ = cli
    dry = helixdesk("retention", "run", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    counts = {r["data_class"]: r["counts"] for r in json.loads(dry.stdout)["results"]}
    assert counts["conversations"] == {"conversations": 1} and counts["outbox"] == {"notifications": 1}
    table = helixdesk("retention", "run", "--by", "ops-alice")
    assert table.returncode == 0 and "recorded in the audit log as entry" in table.stdout
    again = json.loads(helixdesk("retention", "run", "--json").stdout)
    assert all(not any(r["counts"].values()) for r in again["results"])
    runs = json.loads(helixdesk("audit", "search", "--action", "retention.run", "--json").stdout)
    assert [r["actor"]["id"] for r in runs][1] == "cli:ops-alice"
    assert helixdesk("audit", "verify").returncode == 0


def test_export_then_erase(cli):
    helixdesk, tmp_path = cli
    out = tmp_path / "C000002.json"
    done = helixdesk("customers", "export", "C000002", "--out", str(out), "--reason", "R-1")
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["conversations"][0]["messages"][0]["text"] == "delta-note message 1"
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    refused = helixdesk("customers", "erase", "C000002", stdin="n\n")
    assert refused.returncode != 0 and "delta-note" in helixdesk("customers", "export", "C000002").stdout
    erased = helixdesk("customers", "erase", "C000002", "--yes", "--json", "--reason", "R-2")
    assert erased.returncode == 0, erased.stderr
    assert json.loads(erased.stdout)["deleted"]["messages"] == 3
    left = json.loads(helixdesk("customers", "export", "C000002").stdout)
    assert left["conversations"] == [] and left["customers"] == [] and left["notifications"] == []
    assert [d["ref"] for d in left["disputes"]] == ["D-delta-note"]  # the bank's case record is kept
    unknown = helixdesk("customers", "export", "C999999")
    assert unknown.returncode == 2 and "error[customer_not_found]" in unknown.stderr
    entries = json.loads(helixdesk("audit", "search", "--customer", "C000002", "--json").stdout)
    actions = [e["action"] for e in entries]
    assert actions[:3] == ["customer.exported", "customer.erased", "customer.exported"]  # newest first
    assert actions.count("customer.erased") == 1  # the refused erasure did nothing
