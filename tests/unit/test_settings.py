from __future__ import annotations

import pytest
from pydantic import ValidationError

from helixdesk.core.settings import Settings


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings(_env_file=None)
    assert s.database_url == "sqlite:///./var/helixdesk.db"
    assert s.is_sqlite and (tmp_path / "var").is_dir()
    assert s.event_bus == "memory"


def test_environment_prefix(monkeypatch):
    monkeypatch.setenv("HELIXDESK_DATABASE_URL", "postgresql://root@127.0.0.1/test")
    monkeypatch.setenv("HELIXDESK_EVENT_BUS", "redis")
    s = Settings(_env_file=None)
    assert s.database_url == "postgresql+psycopg://root@127.0.0.1/test"
    assert s.event_bus == "redis" and not s.is_sqlite


@pytest.mark.parametrize(
    ("field", "value"),
    [("database_url", "mysql://x"), ("event_bus", "kafka"), ("max_message_chars", 0), ("log_level", "loud")],
)
def test_bad_values_are_rejected(field, value):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **{field: value})


def test_cors_origins_from_the_environment(monkeypatch):
    monkeypatch.setenv("HELIXDESK_CORS_ORIGINS", "https://app.bank.example, http://10.0.0.5:8080")
    s = Settings(_env_file=None, database_url="sqlite:///:memory:")
    assert s.cors_origins == ["https://app.bank.example", "http://10.0.0.5:8080"]
    assert Settings(_env_file=None, database_url="sqlite:///:memory:", cors_origins="").cors_origins == []


@pytest.mark.parametrize("origin", ["*", "https://bank.example/", "bank.example", "https://*.bank.example"])
def test_cors_origins_must_be_exact(origin):
    with pytest.raises(ValidationError, match="cors_origins"):
        Settings(_env_file=None, database_url="sqlite:///:memory:", cors_origins=origin)


def test_the_audit_log_is_kept_longest():
    ok = Settings(_env_file=None, database_url="sqlite:///:memory:", retention_audit_days=3650)
    assert ok.retention_audit_days == 3650
    with pytest.raises(ValidationError, match="retention_conversations_days=730"):
        Settings(_env_file=None, database_url="sqlite:///:memory:", retention_audit_days=365)
    with pytest.raises(ValidationError, match="retention_outbox_days=0"):
        Settings(
            _env_file=None,
            database_url="sqlite:///:memory:",
            retention_audit_days=3650,
            retention_outbox_days=0,
        )


def test_short_audit_key_is_refused_without_echoing_it():
    with pytest.raises(ValidationError) as e:
        Settings(_env_file=None, database_url="sqlite:///:memory:", audit_key="short-secret-value")
    assert "audit_key" in str(e.value) and "short-secret-value" not in str(e.value)
