"""`helixdesk outbox`: read the demo SMS/e-mail gateway (the `notification_outbox` table)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.notifications import list_outbox
from helixdesk.privacy.keys import resolve_keyring

app = typer.Typer(
    help="The demo notification outbox (one-time codes sent by SMS or e-mail).", no_args_is_help=True
)
out = Console()


@app.command("list")
def list_command(
    customer: str = typer.Option("", help="Only this bank customer (e.g. C000001)."),
    limit: int = typer.Option(20, min=1, max=1000, help="How many of the latest notifications."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of a table."),
) -> None:
    """Show the latest notifications, newest first (decrypted; destinations masked)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        entries = list_outbox(
            make_session_factory(engine),
            resolve_keyring(settings),
            customer_ref=customer or None,
            limit=limit,
        )
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        out.print("the outbox is empty")
        return
    table = Table(title="notification outbox")
    for column in ("sent at (UTC)", "customer", "channel", "to", "message"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.customer_ref,
            e.channel,
            e.destination_masked,
            e.body,
        )
    out.print(table)
