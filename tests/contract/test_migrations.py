"""The Alembic migrations produce exactly the schema the models describe (autogenerate-clean)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from helixdesk.edge.tables import Base


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; run alembic revision --autogenerate: {diff}"


def test_migrations_are_at_head(engine):
    from alembic.script import ScriptDirectory

    from helixdesk.db.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    assert set(current) == set(heads)


def test_a_failed_migration_is_rolled_back_whole_and_can_be_run_again(tmp_path):
    """On SQLite too: 0008 creates six tables; the last one already exists, so it fails there."""
    import sqlite3

    from sqlalchemy import inspect

    from helixdesk.db.migrate import MigrationFailedError, current_revision, upgrade_engine
    from helixdesk.db.session import make_engine

    path = tmp_path / "m.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade_engine(engine, "0007")
        with sqlite3.connect(path) as raw:  # a table in the way of the sixth create_table
            raw.execute("CREATE TABLE kb_drafts (id INTEGER PRIMARY KEY, note TEXT)")
            raw.execute("INSERT INTO kb_drafts (note) VALUES ('kept')")
        before = set(inspect(engine).get_table_names())
        with pytest.raises(MigrationFailedError) as failed:
            upgrade_engine(engine)
        assert failed.value.code == "migration_failed"
        assert "still at 0007" in failed.value.detail
        engine.dispose()
        assert current_revision(engine) == "0007"
        assert set(inspect(engine).get_table_names()) == before  # none of the five others stayed
        with sqlite3.connect(path) as raw:
            assert raw.execute("SELECT note FROM kb_drafts").fetchall() == [("kept",)]
            raw.execute("DROP TABLE kb_drafts")
        upgrade_engine(engine)  # the cause removed, the same upgrade runs through
        assert current_revision(engine) is not None and current_revision(engine) >= "0009"
        assert {"api_keys", "staff_users", "kb_drafts", "event_log"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_command_line_reports_a_failed_migration_with_its_code(tmp_path):
    import sqlite3

    from tests.cliproc import helixdesk_cli

    path = tmp_path / "cli.db"
    env = {"HELIXDESK_DATABASE_URL": f"sqlite:///{path}"}
    helixdesk = helixdesk_cli(tmp_path, env=env)
    assert helixdesk("db", "upgrade", "--revision", "0007").returncode == 0
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE kb_drafts (id INTEGER PRIMARY KEY)")
    failed = helixdesk("db", "upgrade")
    assert failed.returncode == 2, failed.stderr
    assert "error[migration_failed]" in failed.stderr and "still at 0007" in failed.stderr
    assert "Traceback" not in failed.stderr
