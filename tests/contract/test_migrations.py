"""The Alembic migrations produce exactly the schema the models describe (autogenerate-clean)."""

from __future__ import annotations

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
