"""`helixdesk learning`: the labelling queue's worker, its counts, the dataset versions of the labels,
and a candidate proposed from new labels.

    helixdesk learning run                          # sample messages into the queue; shadow runs
    helixdesk learning queue [--json]               # items per status and reason
    helixdesk learning dataset snapshot [--note "..."]   # a new immutable version of the labels
    helixdesk learning dataset list [--json]
    helixdesk learning dataset show d3 [--json]
    helixdesk learning dataset export d3 --out DIR  # the pack's training-data format
    helixdesk learning propose --days 7             # a candidate from the labels of the last week

Errors exit with code 2 and print `error[code]: message` on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from helixdesk.cli.context import open_store, operator, parse_time
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.core.settings import Settings

app = typer.Typer(
    help="Learning: the labelling queue and the dataset versions of its labels.", no_args_is_help=True
)
dataset_app = typer.Typer(help="Dataset versions of the labels.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

By = Annotated[
    str, typer.Option("--by", help="Who runs the command (the audit log's actor; default: your login).")
]


def _fail(e: AppError) -> NoReturn:
    err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
    raise typer.Exit(2)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


@app.command("run")
def run_command(
    poll: Annotated[
        float, typer.Option(min=0.05, max=60, help="Seconds between reads of the event log when idle.")
    ] = 1.0,
) -> None:
    """Sample customer messages into the labelling queue and run the shadow candidate as
    conversations happen (runs until stopped)."""
    from helixdesk.learning.worker import run_worker

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings, poll_seconds=poll))


@app.command("queue")
def queue_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """How many items wait in the labelling queue, per status and reason."""
    from helixdesk.learning.labels import Vocabulary
    from helixdesk.learning.queue import Labelling
    from helixdesk.packs.loader import load_pack

    with open_store() as store:
        counts = Labelling(
            sessions=store.sessions, vocabulary=Vocabulary.for_pack(load_pack(store.settings.pack).path)
        ).counts()
    if as_json:
        _json(counts)
        return
    table = Table(title="labelling queue")
    table.add_column("status")
    table.add_column("items", justify="right")
    for status, n in counts["status"].items():
        table.add_row(status, str(n))
    out.print(table)
    if counts["reasons"]:
        out.print(
            "waiting, by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(counts["reasons"].items()))
        )


@dataset_app.command("snapshot")
def snapshot_command(
    note: Annotated[str, typer.Option(help="Why this version was made (kept with it).")] = "",
    by: By = "",
) -> None:
    """Make a new immutable version of every resolved label (or name the newest, when no label
    changed since)."""
    from helixdesk.learning.datasets import Datasets

    try:
        with open_store() as store:
            view, created = Datasets(sessions=store.sessions, audit=store.audit).snapshot(
                actor=operator(by), note=note
            )
    except AppError as e:
        _fail(e)
    what = "[green]new dataset[/]" if created else "no label changed since; the newest dataset is"
    out.print(
        f"{what} {view.version}: {view.examples} examples, sha256 {view.content_sha256}", highlight=False
    )


@dataset_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every dataset version, newest first."""
    from helixdesk.learning.datasets import Datasets

    with open_store() as store:
        found = Datasets(sessions=store.sessions).versions()
    if as_json:
        _json([d.to_dict() for d in found])
        return
    table = Table(title="dataset versions")
    for col in ("version", "examples", "held", "sha256", "created", "by", "note"):
        table.add_column(col)
    for d in found:
        table.add_row(
            d.version,
            str(d.examples),
            str(d.present),
            d.content_sha256[:12],
            d.created_at[:16],
            d.created_by,
            d.note,
        )
    out.print(table)


@dataset_app.command("show")
def show_command(
    version: Annotated[str, typer.Argument(help="The dataset version, e.g. d3.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A dataset version's counts: intents, emotions, entities, reasons, languages, resolutions."""
    from helixdesk.learning.datasets import Datasets

    try:
        with open_store() as store:
            view = Datasets(sessions=store.sessions).get(version)
    except AppError as e:
        _fail(e)
    if as_json:
        _json(view.to_dict())
        return
    out.print(
        f"dataset {view.version}: {view.examples} examples ({view.present} held), sha256 {view.content_sha256}, "
        f"made {view.created_at[:16]} by {view.created_by}",
        highlight=False,
    )
    for key, counts in view.counts.items():
        out.print(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False)


@dataset_app.command("export")
def export_command(
    version: Annotated[str, typer.Argument(help="The dataset version, e.g. d3.")],
    out_dir: Annotated[Path, typer.Option("--out", help="The folder to write (created).")],
) -> None:
    """Write a dataset version in the pack's training-data format (intents/*.yaml, emotions.yaml),
    with entities.jsonl, provenance.jsonl and manifest.json."""
    from helixdesk.learning.datasets import Datasets

    try:
        with open_store() as store:
            manifest = Datasets(sessions=store.sessions).export(version, out_dir)
    except AppError as e:
        _fail(e)
    out.print(
        f"[green]exported[/] {manifest['dataset']} ({manifest['present']} examples) -> {out_dir}",
        highlight=False,
    )


@app.command("propose")
def propose_command(
    days: Annotated[
        int, typer.Option(min=1, max=366, help="Labels resolved in the last DAYS count as new.")
    ] = 7,
    since: Annotated[str, typer.Option(help="Instead of --days: labels resolved since this ISO time.")] = "",
    by: By = "",
) -> None:
    """Train a candidate from the newest labels when there are new ones (never promotes it)."""
    from helixdesk.learning.training import propose_candidate

    try:
        start = parse_time(since, "--since") or utcnow() - timedelta(days=days)
        with open_store() as store:
            version = propose_candidate(
                store.sessions, store.settings, start, audit=store.audit, actor=operator(by)
            )
    except AppError as e:
        _fail(e)
    except ValueError as e:
        _fail(ValidationFailedError(str(e), code="nlu_data_invalid"))
    if version is None:
        out.print(f"no label resolved since {start:%Y-%m-%d %H:%M}: no candidate")
        return
    out.print(f"[green]candidate[/] {version} (see `helixdesk model show {version}`)", highlight=False)
