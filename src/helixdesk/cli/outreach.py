"""`helixdesk outreach`: what the bank does for customers without being asked (the outreach
consumer: goodwill after a resolved complaint of a customer at risk; the incident campaigns'
notices to the affected customers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import typer

from helixdesk.cli.context import bank_zone
from helixdesk.core.settings import Settings

app = typer.Typer(help="Outreach: the strategies' touches nobody asks for.", no_args_is_help=True)


@app.command("run")
def run_command(
    poll: float = typer.Option(
        1.0, min=0.05, max=60, help="Seconds between reads of the event log when idle."
    ),
    lease: float = typer.Option(
        30.0,
        min=1,
        max=600,
        help="Seconds a stopped or dead process keeps the consumer before another takes over.",
    ),
) -> None:
    """Give the strategies' goodwill offers as complaints are resolved and send the incident
    campaigns' notices (runs until stopped)."""
    from helixdesk.outreach.worker import run_worker

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings, bank_zone(settings), poll_seconds=poll, lease_seconds=lease))
