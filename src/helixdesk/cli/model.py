"""`helixdesk model`: the model registry of the intent model.

    helixdesk model train --dataset d3              # a candidate on the pack's examples + d3 (never live)
    helixdesk model register DIR                    # a model trained with `nlu train --out DIR`
    helixdesk model list [--json]
    helixdesk model show VERSION [--json]           # its report on the regression set and the gate
    helixdesk model shadow VERSION | --stop         # parse live traffic beside the live model
    helixdesk model disagreements VERSION           # where its shadow run differed from the live model
    helixdesk model promote VERSION [--override --reason "..."]
    helixdesk model rollback [--reason "..."]

A version may be given by a unique beginning of it (at least 4 characters). Errors exit with
code 2 and print `error[code]: message` on stderr.
"""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from helixdesk.cli.context import Store, open_store, operator
from helixdesk.core.errors import AppError, ValidationFailedError

if TYPE_CHECKING:
    from helixdesk.learning.registry import ModelRegistry

app = typer.Typer(help="The model registry: train, report, shadow, promote, roll back.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

By = Annotated[
    str, typer.Option("--by", help="Who runs the command (the audit log's actor; default: your login).")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Version = Annotated[str, typer.Argument(help="The model version (or a unique beginning of it).")]


def _fail(e: AppError) -> NoReturn:
    err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
    raise typer.Exit(2)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


class _registry(AbstractContextManager["ModelRegistry"]):
    """The registry over the settings' database and model folder."""

    def __enter__(self) -> ModelRegistry:
        from helixdesk.learning.registry import ModelRegistry

        self._ctx = open_store()
        store: Store = self._ctx.__enter__()
        return ModelRegistry.from_settings(store.settings, store.sessions, store.audit)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(None, None, None)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{float(value):.3f}"


@app.command("train")
def train_command(
    dataset: Annotated[
        str,
        typer.Option(
            help="Dataset version to add to the pack's examples ('latest'; empty: the pack's alone)."
        ),
    ] = "latest",
    seed: Annotated[int, typer.Option(help="Random seed of the held-out slice used for calibration.")] = 0,
    note: Annotated[str, typer.Option(help="Why this candidate (kept with it).")] = "",
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
    by: By = "",
) -> None:
    """Train a candidate and measure it on the regression set. It is never made live here."""
    from helixdesk.cli.nlu import TrainingProgress
    from helixdesk.learning.datasets import Datasets

    try:
        with _registry() as registry:
            name: str | None = dataset or None
            if name == "latest":
                newest = Datasets(sessions=registry.sessions).newest()
                name = newest.version if newest is not None else None
            with TrainingProgress(quiet) as report:
                version = registry.train(
                    dataset=name, actor=operator(by), seed=seed, note=note, progress=report
                )
            gate = registry.check_gate(version.version)
    except AppError as e:
        _fail(e)
    except ValueError as e:
        _fail(ValidationFailedError(str(e), code="nlu_data_invalid"))
    s = version.summary
    out.print(
        f"[green]candidate[/] {version.version} on the pack's examples"
        f"{' + dataset ' + name if name else ''} ({version.examples} examples): accuracy {_pct(s['accuracy'])}, "
        f"macro-F1 {_pct(s['macro_f1'])}, OOS recall {_pct(s['oos_recall'])}, ECE {_pct(s['ece'])}; gate: {gate.explain()}",
        highlight=False,
    )


@app.command("register")
def register_command(
    path: Annotated[Path, typer.Argument(help="A model folder written by `helixdesk nlu train --out DIR`.")],
    note: Annotated[str, typer.Option(help="Where it comes from (kept with it).")] = "",
    by: By = "",
) -> None:
    """Register a model trained elsewhere as a candidate (verified, copied, measured)."""
    try:
        with _registry() as registry:
            version = registry.register(path, actor=operator(by), note=note)
    except AppError as e:
        _fail(e)
    out.print(f"[green]registered[/] {version.version} (candidate)", highlight=False)


@app.command("list")
def list_command(as_json: Json = False) -> None:
    """Every version, newest first, with its status and headline figures."""
    with _registry() as registry:
        found = registry.versions()
    if as_json:
        _json([v.to_dict() for v in found])
        return
    table = Table(title="intent models")
    for col in (
        "version",
        "status",
        "source",
        "dataset",
        "accuracy",
        "macro-F1",
        "OOS recall",
        "ECE",
        "created",
    ):
        table.add_column(col)
    for v in found:
        s = v.summary
        table.add_row(
            v.version,
            v.status + (" (LIVE file)" if v.pinned else ""),
            v.source,
            v.dataset or "",
            _pct(s.get("accuracy")),
            _pct(s.get("macro_f1")),
            _pct(s.get("oos_recall")),
            _pct(s.get("ece")),
            v.created_at[:16],
        )
    out.print(table)


@app.command("show")
def show_command(version: Version, as_json: Json = False) -> None:
    """A version's report on the regression set (accuracy, per-label P/R/F1, confusions, OOS recall,
    calibration, latency) and the gate against the live model."""
    try:
        with _registry() as registry:
            found = registry.get(version)
            report = registry.report(found.version)
            gate = registry.check_gate(found.version)
            shadows = registry.shadow_runs(found.version)
    except AppError as e:
        _fail(e)
    if as_json:
        _json({"model": found.to_dict(), "report": report, "gate": gate.to_dict(), "shadow_runs": shadows})
        return
    out.print(
        f"model {found.version} ({found.status}, {found.source}; data {found.data_sha256[:12]}, dataset "
        f"{found.dataset or '–'}; {found.examples or '?'} examples)",
        highlight=False,
    )
    head = Table(title=f"on the regression set ({report['regression']['n']} messages)")
    head.add_column("metric")
    head.add_column("value", justify="right")
    calib, latency = report["calibration"], report["latency"]
    for name, value in (
        ("accuracy", _pct(report["accuracy"])),
        ("macro-F1", _pct(report["macro_f1"])),
        ("out-of-scope recall", _pct(report["oos_recall"])),
        ("ECE (10 bins)", _pct(calib["ece"])),
        ("latency p50 / p95 (ms)", f"{latency['p50_ms']} / {latency['p95_ms']}"),
        ("batched (ms per message)", str(latency["batch_ms_per_message"])),
    ):
        head.add_row(name, value)
    out.print(head)
    worst = Table(title="weakest labels")
    for col in ("label", "precision", "recall", "F1", "support"):
        worst.add_column(col)
    for row in sorted(report["per_label"], key=lambda r: r["f1"])[:10]:
        worst.add_row(
            row["label"], _pct(row["precision"]), _pct(row["recall"]), _pct(row["f1"]), str(row["support"])
        )
    out.print(worst)
    out.print(f"gate: {gate.explain()}", highlight=False)
    for run in shadows[:3]:
        out.print(
            f"shadow run {run['id']}: {run['parsed']} parsed, {run['disagreed']} disagreements"
            f"{' (running)' if not run['stopped_at'] else ''}",
            highlight=False,
        )


@app.command("shadow")
def shadow_command(
    version: Annotated[str | None, typer.Argument(help="The candidate to shadow.")] = None,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the running shadow run.")] = False,
    by: By = "",
) -> None:
    """Have a candidate parse live traffic beside the live model (never the reply), or stop it."""
    if (version is None) == (not stop):
        _fail(ValidationFailedError("give either a VERSION to shadow or --stop", code="bad_input"))
    try:
        with _registry() as registry:
            run = (
                registry.stop_shadow(actor=operator(by))
                if stop
                else registry.start_shadow(str(version), actor=operator(by))
            )
    except AppError as e:
        _fail(e)
    if stop:
        out.print(
            f"shadow run {run['id']} of {run['version']} stopped: {run['parsed']} parsed, {run['disagreed']} disagreements"
        )
    else:
        out.print(
            f"[green]shadow run[/] {run['id']}: {run['version']} parses live traffic from now on "
            "(`helixdesk learning run` must be running; see the disagreements in the console or with "
            f"`helixdesk model disagreements {run['version']}`)",
            highlight=False,
        )


@app.command("disagreements")
def disagreements_command(
    version: Version,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
    as_json: Json = False,
) -> None:
    """The customer messages (masked) a version's shadow runs understood differently from the live model."""
    try:
        with _registry() as registry:
            found = registry.disagreements(version, limit=limit)
    except AppError as e:
        _fail(e)
    if as_json:
        _json(found)
        return
    table = Table(title="disagreements")
    for col in ("message", "live", "candidate", "at"):
        table.add_column(col)
    for d in found:
        table.add_row(
            d["text"],
            f"{d['live']['intent']} {_pct(d['live']['confidence'])}",
            f"{d['candidate']['intent']} {_pct(d['candidate']['confidence'])}",
            d["at"][:16],
        )
    out.print(table)


@app.command("promote")
def promote_command(
    version: Version,
    override: Annotated[
        bool,
        typer.Option("--override", help="Promote although the gate refuses it (needs --reason; audited)."),
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (required with --override; kept in the audit log).")] = "",
    by: By = "",
) -> None:
    """Make a candidate the live model; every server process loads it within seconds."""
    try:
        with _registry() as registry:
            promoted = registry.promote(version, actor=operator(by), override=override, reason=reason)
    except AppError as e:
        _fail(e)
    out.print(f"[green]live[/] {promoted.version} (was {promoted.previous or '–'})", highlight=False)


@app.command("rollback")
def rollback_command(
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
    by: By = "",
) -> None:
    """Make the version that was live before the live one live again."""
    try:
        with _registry() as registry:
            back = registry.rollback(actor=operator(by), reason=reason)
    except AppError as e:
        _fail(e)
    out.print(f"[green]live[/] {back.version} again", highlight=False)
