"""`helixdesk analytics`: the dashboards' figures.

    helixdesk analytics run                     # the consumer that keeps the rollups up to date
    helixdesk analytics rebuild                 # recompute every fact and rollup from the source tables
    helixdesk analytics effect knowledge:faq-12 [--period month | --from D --to D] [--json]
    helixdesk analytics report [--period week | --from 2026-11-01 --to 2026-11-30] [--channel web] [--json | --csv]
    helixdesk analytics pdf [--period day | --from 2026-11-01 --to 2026-11-30] [--language en] --out report.pdf

Errors exit with code 2 and print `error[code]: message` on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from helixdesk.analytics.evaluation import Change, evaluate
from helixdesk.analytics.export import summary_csv
from helixdesk.analytics.feed import rebuild
from helixdesk.analytics.metrics import CostModel
from helixdesk.analytics.query import Analytics, parse_days, parse_filters
from helixdesk.analytics.worker import report_writer, run_worker
from helixdesk.cli.context import bank_zone
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.packs.loader import load_pack

app = typer.Typer(help="Analytics: the dashboards' figures.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(e: AppError) -> NoReturn:
    err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
    raise typer.Exit(2)


@app.command("run")
def run_command(
    poll: Annotated[
        float, typer.Option(min=0.05, max=60, help="Seconds between reads of the event log when idle.")
    ] = 1.0,
) -> None:
    """Keep the dashboards' facts and rollups up to date from the event log, until stopped."""
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings, bank_zone(settings), poll_seconds=poll))


@app.command("rebuild")
def rebuild_command() -> None:
    """Recompute every conversation's facts from the source tables, and the rollups from them."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        done = rebuild(make_session_factory(engine), tz=bank_zone(settings))
    except RuntimeError as e:
        err.print(f"[bold red]error\\[busy][/]: {escape(str(e))}", highlight=False)
        raise typer.Exit(2) from e
    finally:
        engine.dispose()
    out.print(
        f"rebuilt the facts of {done.conversations} conversations and their rollups in {done.seconds:.1f} s"
    )


@app.command("effect")
def effect_command(
    change: Annotated[
        str, typer.Argument(help="knowledge:<entry id>, queue:<q>, reason:<r> or after:<YYYY-MM-DD>.")
    ],
    period: Annotated[str, typer.Option(help="day, week or month (the last 1, 7 or 30 days).")] = "month",
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (with --to).")] = "",
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD, inclusive.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A change's effect on the customers it touched, against a comparable group, with 95% intervals."""
    settings = Settings()
    tz = bank_zone(settings)
    try:
        days = parse_days(period, first or None, last or None, now=utcnow(), tz=tz)
        parsed = Change.parse(change)
    except AppError as e:
        _fail(e)
    engine = make_engine(settings.database_url)
    try:
        with reading(make_session_factory(engine)) as s:
            result = evaluate(
                s, parsed, days, parse_filters(), churn=load_lifecycle_config(load_pack(settings.pack)).churn
            )
    finally:
        engine.dispose()
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
        return
    table = Table(title=f"{result['change']}, {result['period']['from']} .. {result['period']['to']}")
    for col in (
        "outcome",
        "touched",
        "comparable",
        "touched mean",
        "comparable mean",
        "difference",
        "95% interval",
        "verdict",
    ):
        table.add_column(col)
    for o in result["outcomes"]:
        interval = f"{o['ci_low']} .. {o['ci_high']}" if o["difference"] is not None else "-"
        table.add_row(
            o["key"],
            str(o["touched"]),
            str(o["comparable"]),
            str(o["touched_mean"]),
            str(o["comparable_mean"]),
            str(o["difference"]),
            interval,
            f"{o['verdict'].replace('_', ' ')} ({o['better']} is better)",
        )
    out.print(table)
    out.print(
        f"{result['touched']} conversations touched; {result['left_out']} left out "
        "(no untouched conversation with the same intent and language)",
        highlight=False,
    )
    if result["retention_observed_through"]:
        out.print(f"retention observed through {result['retention_observed_through']}")


@app.command("report")
def report_command(
    period: Annotated[str, typer.Option(help="day, week or month (the last 1, 7 or 30 days).")] = "week",
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (with --to).")] = "",
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD, inclusive.")] = "",
    channel: Annotated[str, typer.Option(help="Only this channel.")] = "",
    language: Annotated[str, typer.Option(help="Only this language.")] = "",
    queue: Annotated[str, typer.Option(help="Only this queue.")] = "",
    intent: Annotated[str, typer.Option(help="Only this intent.")] = "",
    agent: Annotated[str, typer.Option(help="Only this agent (id).")] = "",
    tier: Annotated[str, typer.Option(help="Only this customer tier.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """The figures of a period, as the dashboard shows them."""
    settings = Settings()
    tz = bank_zone(settings)
    try:
        days = parse_days(period, first or None, last or None, now=utcnow(), tz=tz)
        filters = parse_filters(
            channel=channel, language=language, queue=queue, intent=intent, agent=agent, tier=tier
        )
    except AppError as e:
        _fail(e)
    engine = make_engine(settings.database_url)
    try:
        with reading(make_session_factory(engine)) as s:
            summary = Analytics(tz=tz, cost=CostModel.from_settings(settings)).summary(s, days, filters)
    finally:
        engine.dispose()
    if as_json:
        out.print_json(json.dumps(summary, ensure_ascii=False))
        return
    if as_csv:
        print(summary_csv(summary), end="")
        return
    table = Table(title=f"{summary['period']['from']} .. {summary['period']['to']}")
    for col in ("metric", "value", "previous", "numerator", "denominator"):
        table.add_column(col)
    for m in summary["metrics"]:
        table.add_row(
            *(
                str(m.get(k)) if m.get(k) is not None else "-"
                for k in ("key", "value", "previous", "numerator", "denominator")
            )
        )
    out.print(table)


@app.command("pdf")
def pdf_command(
    out_file: Annotated[Path, typer.Option("--out", help="The PDF file to write.")],
    period: Annotated[str, typer.Option(help="day, week or month (the last 1, 7 or 30 days).")] = "week",
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (with --to).")] = "",
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD, inclusive.")] = "",
    language: Annotated[
        str, typer.Option(help="The report's language: zh-Hans, zh-Hant or en (default: the setting).")
    ] = "",
    channel: Annotated[str, typer.Option(help="Only this channel.")] = "",
    queue: Annotated[str, typer.Option(help="Only this queue.")] = "",
    intent: Annotated[str, typer.Option(help="Only this intent.")] = "",
    agent: Annotated[str, typer.Option(help="Only this agent (id).")] = "",
    tier: Annotated[str, typer.Option(help="Only this customer tier.")] = "",
) -> None:
    """The figures of a period as a PDF report (the scheduled reports' layout)."""
    settings = Settings()
    tz = bank_zone(settings)
    language = language or settings.analytics_reports_language
    engine = make_engine(settings.database_url)
    try:
        if language not in ("zh-Hans", "zh-Hant", "en"):
            raise ValidationFailedError("language must be zh-Hans, zh-Hant or en", code="invalid_language")
        if not out_file.parent.is_dir():
            raise ValidationFailedError(f"no folder {out_file.parent}", code="invalid_out")
        days = parse_days(period, first or None, last or None, now=utcnow(), tz=tz)
        filters = parse_filters(channel=channel, queue=queue, intent=intent, agent=agent, tier=tier)
        kind = period if period in ("day", "week") and not (first or last) else "custom"
        data = report_writer(settings, make_session_factory(engine), tz).pdf(
            days, filters, language=language, kind=kind
        )
    except AppError as e:
        _fail(e)
    finally:
        engine.dispose()
    out_file.write_bytes(data)
    out.print(f"wrote the report of {days.first} .. {days.last} ({language}) to {out_file}")
