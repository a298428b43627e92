"""`helixdesk audit`: verify the audit log's hash chain and search it."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from helixdesk.audit import ACTOR_KINDS, AuditChainBrokenError, AuditQuery, search, verify_chain
from helixdesk.cli.context import open_store, parse_time
from helixdesk.core.errors import ValidationFailedError

app = typer.Typer(
    help="The tamper-evident audit log (verify the chain, search entries).", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)


@app.command("verify")
def verify_command(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Walk the whole chain; exit 2 naming the first edited, deleted or inserted row."""
    with open_store() as store:
        if quiet or as_json or not sys.stderr.isatty():
            report = verify_chain(store.sessions, store.audit.key)
        else:
            with Progress(console=err, transient=True) as bar:
                task = bar.add_task("verifying", total=None)
                report = verify_chain(
                    store.sessions, store.audit.key, progress=lambda n: bar.update(task, completed=n)
                )
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    if not report.ok:
        raise AuditChainBrokenError(
            f"audit chain broken at row {report.bad_seq}: {report.problem}", seq=report.bad_seq
        )
    if not as_json:
        if report.rows == 0:
            out.print("the audit log is empty")
        else:
            out.print(
                f"audit chain OK: {report.rows} entries, rows {report.first_seq}..{report.last_seq}, "
                f"head {report.head_hash}"
            )


def _pair(value: str, option: str) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    kind, _, ident = value.partition(":")
    if not kind:
        raise ValidationFailedError(f"{option} is KIND or KIND:ID, e.g. staff:u-1024", code="invalid_filter")
    return kind, ident or None


@app.command("search")
def search_command(
    actor: str = typer.Option("", help=f"KIND[:ID]; kinds: {', '.join(ACTOR_KINDS)}."),
    target: str = typer.Option("", help="KIND[:ID], e.g. conversation:5f0c… or customer:C000001."),
    action: str = typer.Option("", help="An action (identity.verified) or a prefix (identity.*)."),
    customer: str = typer.Option("", help="Entries about this customer (bank customer number)."),
    since: str = typer.Option("", help="From this ISO date/date-time (UTC unless given)."),
    until: str = typer.Option("", help="Before this ISO date/date-time."),
    before_seq: int = typer.Option(0, "--before-seq", min=0, help="Page: only entries before this seq."),
    limit: int = typer.Option(50, min=1, max=10000, help="Most entries to show, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """Entries matching every filter given, newest first."""
    actor_kind, actor_id = _pair(actor, "--actor")
    if actor_kind is not None and actor_kind not in ACTOR_KINDS:
        raise ValidationFailedError(
            f"--actor kind must be one of {', '.join(ACTOR_KINDS)}", code="invalid_filter"
        )
    target_kind, target_id = _pair(target, "--target")
    query = AuditQuery(
        actor_kind=actor_kind,
        actor_id=actor_id,
        target_kind=target_kind,
        target_id=target_id,
        action=action or None,
        customer_ref=customer or None,
        since=parse_time(since, "--since"),
        until=parse_time(until, "--until"),
        before_seq=before_seq or None,
        limit=limit,
    )
    with open_store() as store, store.sessions() as s:
        entries = search(s, query)
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        out.print("no matching audit entries")
        return
    table = Table(title="audit log (newest first)")
    for column in ("seq", "at (UTC)", "actor", "action", "target", "customer", "reason", "details"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            str(e.seq),
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{e.actor.kind}:{e.actor.id}" + (f" @{e.actor.ip}" if e.actor.ip else ""),
            e.action,
            f"{e.target.kind}:{e.target.id}",
            e.customer_ref or "",
            e.reason,
            json.dumps(e.details, ensure_ascii=False),
        )
    out.print(table)
