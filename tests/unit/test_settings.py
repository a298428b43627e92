from __future__ import annotations

import pytest
from pydantic import ValidationError

from helixdesk.settings import Settings


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
