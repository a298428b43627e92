"""`helixdesk keys`: encryption keys for personal data at rest (generate, status, rotate).

    helixdesk keys generate [--id k20261123]     # prints a new KEY_ID:BASE64 key
    helixdesk keys status                        # values per key id in every encrypted column
    helixdesk keys rotate [--batch-size 500]     # re-encrypt everything to the active key

Rotating: add the new key to HELIXDESK_ENCRYPTION_KEYS (keep the old one), make it
HELIXDESK_ENCRYPTION_ACTIVE_KEY, restart the servers, run `helixdesk keys rotate` (the servers keep
running), check `helixdesk keys status`, then remove the old key.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.privacy.crypto import generate_key
from helixdesk.privacy.keys import resolve_keyring
from helixdesk.privacy.rotation import pending_count, rotate, status

app = typer.Typer(help="Encryption keys for personal data at rest.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.command("generate")
def generate_command(
    key_id: Annotated[
        str | None, typer.Option("--id", help="Key id (letters, digits, dots, dashes); default k + today.")
    ] = None,
) -> None:
    """Print a new random AES-256 key as KEY_ID:BASE64 (nothing is stored)."""
    typer.echo(generate_key(key_id))
    err.print(
        "add it to HELIXDESK_ENCRYPTION_KEYS (comma-separated, keep the old keys), set "
        "HELIXDESK_ENCRYPTION_ACTIVE_KEY to its id, restart, then run `helixdesk keys rotate`",
        highlight=False,
    )


@app.command("status")
def status_command() -> None:
    """How many stored values each key encrypts, per encrypted column."""
    from helixdesk.edge.encrypted import ENCRYPTED_COLUMNS  # heavy: only this command needs it

    settings = Settings()
    keyring = resolve_keyring(settings)
    engine = make_engine(settings.database_url)
    try:
        columns = status(make_session_factory(engine), keyring, columns=ENCRYPTED_COLUMNS)
    finally:
        engine.dispose()
    table = Table(title=f"encrypted values (active key: {keyring.active})")
    for name in ("column", "values per key", "to rotate"):
        table.add_column(name)
    for c in columns:
        per_key = ", ".join(f"{kid}: {n}" for kid, n in c.by_key.items()) or "-"
        table.add_row(c.name, per_key, str(c.pending))
    out.print(table)


@app.command("rotate")
def rotate_command(
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, max=100_000, help="Rows per transaction (default: encryption_rotate_batch)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Re-encrypt every encrypted value to the active key, in batches, while the server runs."""
    from helixdesk.edge.encrypted import ENCRYPTED_COLUMNS  # heavy: only this command needs it

    settings = Settings()
    keyring = resolve_keyring(settings)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        total = pending_count(sessions, keyring, columns=ENCRYPTED_COLUMNS)
        bar = Progress(
            TextColumn("re-encrypting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=quiet,
        )
        with bar:
            task = bar.add_task("rotate", total=total)
            done = rotate(
                sessions,
                keyring,
                columns=ENCRYPTED_COLUMNS,
                batch_size=batch_size or settings.encryption_rotate_batch,
                progress=lambda n: bar.advance(task, n),
            )
        left = pending_count(sessions, keyring, columns=ENCRYPTED_COLUMNS)
    finally:
        engine.dispose()
    out.print(f"re-encrypted {done} value(s) to key {keyring.active}; {left} left")
