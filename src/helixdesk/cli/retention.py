"""`helixdesk retention run`: delete or anonymise data past its retention period."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from helixdesk.cli.context import open_store, operator

app = typer.Typer(help="Retention periods of each data class (docs/security.md).", no_args_is_help=True)
out = Console()


@app.command("run")
def run_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be deleted or anonymised."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, max=100_000, help="Rows per transaction."),
    by: str = typer.Option("", "--by", help="Who runs it, for the audit log (default: your user name)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Apply every retention period now (idempotent; in batches; audited)."""
    from helixdesk.insight.feed import forget_anonymised
    from helixdesk.retention import (
        DATA_CLASSES,
        RetentionJob,
        RetentionPolicy,
    )  # heavy: only this command needs it

    with open_store() as store:
        job = RetentionJob(
            sessions=store.sessions,
            audit=store.audit,
            policy=RetentionPolicy.from_settings(store.settings),
            batch_size=batch_size,
        )
        report = job.run(dry_run=dry_run, actor=operator(by))
        # Insight's rows of the conversations just anonymised keep their figures only (the insight
        # worker does this too, as a backstop, when it runs).
        cleared = 0 if dry_run else forget_anonymised(store.sessions)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    title = "retention (dry run: nothing changed)" if dry_run else "retention"
    table = Table(title=title)
    for column in ("data class", "kept for", "older than", "would change" if dry_run else "changed", "what"):
        table.add_column(column)
    for r in report.results:
        table.add_row(
            r.data_class,
            "for ever" if r.cutoff is None else f"{r.days} days",
            "" if r.cutoff is None else r.cutoff.strftime("%Y-%m-%d %H:%M"),
            ", ".join(f"{k} {v}" for k, v in r.counts.items()) or "-",
            DATA_CLASSES[r.data_class] if r.cutoff is not None else "kept",
        )
    out.print(table)
    if cleared:
        out.print(f"insight: {cleared} rows of anonymised conversations keep their figures only")
    out.print(f"recorded in the audit log as entry {report.audit_seq}")
