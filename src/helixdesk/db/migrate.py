"""Run Alembic migrations programmatically (`helixdesk db upgrade`, `helixdesk serve`, tests).

An upgrade runs in one transaction, on SQLite as on PostgreSQL (both have transactional DDL; on
SQLite the engine of `helixdesk.db.session` begins the transaction itself, which the driver would
not do before DDL). A migration that fails leaves the database at the revision it had, whole, and
raises `MigrationFailedError` (`migration_failed`), so fixing the cause and running it again works.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from helixdesk.core.errors import AppError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class MigrationFailedError(AppError):
    code = "migration_failed"
    http_status = 500


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    engine = make_engine(settings.database_url)
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except Exception as e:
        try:
            at = current_revision(engine) or "an empty schema"
        except Exception:  # noqa: BLE001 - the database itself may be the problem
            at = "its previous revision"
        cause = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise MigrationFailedError(
            f"migrating to {revision} failed and was rolled back; the database is still at {at}. "
            f"Cause: {type(e).__name__}: {cause}"
        ) from e
