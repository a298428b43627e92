"""`helixdesk qa`: quality monitoring (the QA consumer, rescoring, checking a text)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import typer
from rich.console import Console

from helixdesk.core.settings import Settings
from helixdesk.packs.loader import load_pack
from helixdesk.quality.rules import RuleBook

app = typer.Typer(help="Quality monitoring: the QA consumer and the pack's rules.", no_args_is_help=True)
out = Console()


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
    """Score every conversation from the event log as it happens (runs until stopped)."""
    from helixdesk.quality.worker import run_worker

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings, poll_seconds=poll, lease_seconds=lease))


@app.command("check")
def check_command(
    text: str = typer.Argument(..., help="A message to check, as an agent would send it."),
    sender: str = typer.Option("agent", help="agent or bot."),
    language: str = typer.Option("zh-Hans", help="Language of the reasons and alternatives."),
) -> None:
    """Check one message against the pack's wording rules; prints the findings as JSON."""
    if sender not in ("agent", "bot"):
        raise typer.BadParameter("sender must be agent or bot")
    book = RuleBook.load(load_pack(Settings().pack))
    found = [
        {
            "rule": h.rule,
            "severity": h.severity,
            "evidence": h.evidence,
            "start": h.start,
            "end": h.end,
            "reason": book.reason(h.rule, language),
            "alternative": book.alternative(h.rule, language),
        }
        for h in book.check_message(text, sender)
    ]
    typer.echo(json.dumps(found, ensure_ascii=False, indent=2))


@app.command("agreement")
def agreement_command(
    days: int | None = typer.Option(
        None, "--days", min=1, max=3650, help="Only findings of the last N days (default: all)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Agreement between QA reviewers and the QA engine per rule (confirmed / reviewed)."""
    from rich.table import Table

    from helixdesk.cli.context import open_store
    from helixdesk.quality.review import QualityReview

    with open_store() as store:
        report = QualityReview(sessions=store.sessions).agreement(days=days)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table(title="QA agreement per rule" + (f" (last {days} days)" if days else ""))
    for column in (
        "rule",
        "category",
        "findings",
        "reviewed",
        "confirmed",
        "rejected",
        "pending",
        "agreement",
    ):
        text = column in ("rule", "category")
        table.add_column(column, justify="left" if text else "right", no_wrap=text)
    for r in [*report.rules, report.total]:
        table.add_row(
            "all rules" if r.rule == "*" else r.rule,
            "" if r.category == "*" else r.category,
            str(r.findings),
            str(r.reviewed),
            str(r.confirmed),
            str(r.rejected),
            str(r.pending),
            "-" if r.rate is None else f"{r.rate:.0%}",
        )
    out.print(table)
