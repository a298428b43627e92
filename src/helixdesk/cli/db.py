"""`helixdesk db`: database migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade as run_upgrade

app = typer.Typer(help="Database migrations.", no_args_is_help=True)
out = Console()


@app.command("upgrade")
def upgrade(revision: str = typer.Option("head", help="Target revision.")) -> None:
    """Migrate the database in HELIXDESK_DATABASE_URL to the latest schema."""
    settings = Settings()
    run_upgrade(settings, revision)
    out.print(f"database migrated to {revision}")
