"""`helixdesk drift`: drift monitoring of the bot's understanding.

    helixdesk drift run                          # the consumer, the judging of days, the weekly job
    helixdesk drift report [--day 2026-12-01] [--json]
    helixdesk drift retrain-weekly [--force]     # propose a candidate from new labels (never promotes)

Errors exit with code 2 and print `error[code]: message` on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import date
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.cli.context import bank_zone
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.drift.board import DriftBoard
from helixdesk.drift.judge import DriftJudge
from helixdesk.drift.reference import ModelHeldOut
from helixdesk.drift.retrain import Propose, run_weekly
from helixdesk.learning.training import propose_candidate
from helixdesk.packs.loader import load_pack

app = typer.Typer(help="Drift monitoring: the bot's understanding, day by day.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(e: AppError) -> NoReturn:
    err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
    raise typer.Exit(2)


def proposer(settings: Settings, sessions: sessionmaker[Session]) -> Propose | None:
    """The model registry's weekly proposal (`helixdesk.learning`): trains a candidate from the labels
    resolved since, never promotes it."""
    return lambda since: propose_candidate(sessions, settings, since)


@app.command("run")
def run_command(
    poll: Annotated[
        float,
        typer.Option(
            min=0.05,
            max=60,
            help="Seconds between reads of the event log: a day's figures need no fresher, and fewer, larger writes leave SQLite's write lock to the turns.",
        ),
    ] = 5.0,
    judge_every: Annotated[
        float,
        typer.Option("--judge-seconds", min=1, max=3600, help="Seconds between judgements of the days."),
    ] = 60.0,
) -> None:
    """Keep the daily figures, judge the days and run the weekly retraining job, until stopped."""
    from helixdesk.drift.worker import run_worker

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    engine = make_engine(settings.database_url)
    try:
        propose = proposer(settings, make_session_factory(engine))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                run_worker(
                    settings,
                    bank_zone(settings),
                    propose=propose,
                    poll_seconds=poll,
                    judge_seconds=judge_every,
                )
            )
    finally:
        engine.dispose()


def _day(value: str, settings: Settings) -> date:
    if not value:
        return utcnow().astimezone(bank_zone(settings)).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(ValidationFailedError(f"not a day: {value!r} (YYYY-MM-DD)", code="bad_date"))


def _figure(value: object, percent: bool) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:.1%}" if percent else f"{value:.3f}"


@app.command("report")
def report_command(
    day: Annotated[str, typer.Option(help="The day, YYYY-MM-DD (default: today, bank time).")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every measure of a day against its reference, per scope, and the day's alarms."""
    settings = Settings()
    tz = bank_zone(settings)
    when = _day(day, settings)
    engine = make_engine(settings.database_url)
    try:
        sessions = make_session_factory(engine)
        pack = load_pack(settings.pack)
        judge = DriftJudge.from_settings(
            settings,
            sessions,
            tz,
            pack.path,
            ModelHeldOut(model_dir=settings.model_dir / settings.pack / "intent", pack_path=pack.path),
        )
        with reading(sessions) as s:
            checks = judge.checks(s, when)
        alarms = DriftBoard(sessions=sessions).alarms(status="all", first=when, last=when)
    finally:
        engine.dispose()
    if as_json:
        body = {"day": when.isoformat(), "scopes": [c.to_dict() for c in checks], "alarms": alarms}
        out.print_json(json.dumps(body, ensure_ascii=False))
        return
    for check in checks:
        ref = check.reference
        where = "none" if ref is None else ref.kind
        if ref is not None and ref.first is not None:
            where += f" {ref.first}..{ref.last}"
        table = Table(
            title=f"{when} {check.scope}: {check.messages} messages; reference {where}"
            f" ({ref.baseline.figures.messages if ref else 0} messages)"
        )
        for col in ("measure", "day", "reference", "change", "threshold", "judged", "alarm"):
            table.add_column(col)
        for m in check.measures:
            percent = m.name in ("oos_rate", "new_vocabulary")
            table.add_row(
                m.name,
                _figure(m.value, percent),
                _figure(m.reference, percent) if m.name != "intent_shift" else "-",
                _figure(m.change, percent),
                _figure(m.threshold, percent),
                "yes" if m.judged else f"no ({m.why})",
                "ALARM" if m.beyond else "",
            )
        out.print(table)
    for a in alarms:
        out.print(
            f"alarm {a['id']}: {a['measure']} ({a['scope']}) {a['status']}, raised {a['raised_at']}",
            highlight=False,
        )


@app.command("retrain-weekly")
def retrain_command(
    force: Annotated[bool, typer.Option(help="Run again even if this week's run has run.")] = False,
) -> None:
    """Propose a candidate model from the labels resolved since the last proposal (never promotes)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        sessions = make_session_factory(engine)
        run = run_weekly(sessions, proposer(settings, sessions), tz=bank_zone(settings), force=force)
    finally:
        engine.dispose()
    if run is None:
        _fail(AppError("another process is running this week's retraining job", code="busy"))
    candidate = f", candidate {run['candidate']} (proposed, not promoted)" if run.get("candidate") else ""
    detail = f": {run['detail']}" if run.get("detail") else ""
    out.print(f"{run['week']}: {run['outcome']}{candidate}{detail}", highlight=False)
