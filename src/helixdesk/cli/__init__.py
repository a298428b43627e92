"""The `helixdesk` command line (Typer + Rich). Errors exit with code 2 and a stable error code."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.markup import escape

from helixdesk.cli import (
    analytics,
    apikeys,
    audit,
    bank,
    chat,
    customers,
    db,
    drift,
    insight,
    kb,
    keys,
    learning,
    lifecycle,
    llm,
    model,
    nlu,
    outbox,
    outreach,
    qa,
    rates,
    retention,
    serve,
    simulate,
    users,
    voice,
)
from helixdesk.core.errors import AppError
from helixdesk.privacy.logs import install_log_masking

app = typer.Typer(
    name="helixdesk",
    help="Helixdesk: self-hosted intelligent customer service for banks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.command("chat")(chat.chat)
app.command("simulate")(simulate.simulate)
app.add_typer(db.app, name="db")
app.add_typer(bank.app, name="bank")
app.add_typer(nlu.app, name="nlu")
app.add_typer(outbox.app, name="outbox")
app.add_typer(rates.app, name="rates")
app.add_typer(kb.app, name="kb")
app.add_typer(users.app, name="users")
app.add_typer(apikeys.app, name="apikeys")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(retention.app, name="retention")
app.add_typer(customers.app, name="customers")
app.add_typer(qa.app, name="qa")
app.add_typer(insight.app, name="insight")
app.add_typer(analytics.app, name="analytics")
app.add_typer(lifecycle.app, name="lifecycle")
app.add_typer(outreach.app, name="outreach")
app.add_typer(llm.app, name="llm")
app.add_typer(drift.app, name="drift")
app.add_typer(learning.app, name="learning")
app.add_typer(model.app, name="model")
app.add_typer(voice.app, name="voice")

err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        app()
    except AppError as e:
        err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
        sys.exit(2)
