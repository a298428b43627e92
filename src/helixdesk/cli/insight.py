"""`helixdesk insight`: hotspots in what customers write.

    helixdesk insight run                      # the consumer, the embedder and the daily mining
    helixdesk insight embed                    # embed every row stored without a vector, then stop
    helixdesk insight mine [--days 30] [--k N] # a mining run now
    helixdesk insight propose                  # proposed answers for unanswered questions, now
    helixdesk insight import feedback.csv      # callback notes and social-media comments
    helixdesk insight report [--period week | --since ISO --until ISO] [--channel web] [--json | --csv]
    helixdesk insight demo [--days 30] [--seed 7]  # a month of demo conversations with a planted spike

Errors exit with code 2 and print `error[code]: message` on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory

if TYPE_CHECKING:
    from helixdesk.insight.embedder import Vectoriser

app = typer.Typer(help="Insight: hotspots in what customers write.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(e: AppError) -> NoReturn:
    err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
    raise typer.Exit(2)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.database_url))


@app.command("run")
def run_command(
    poll: Annotated[
        float, typer.Option(min=0.05, max=60, help="Seconds between reads of the event log when idle.")
    ] = 1.0,
    mine_hours: Annotated[float, typer.Option(min=0.01, help="Hours between mining runs.")] = 24.0,
    days: Annotated[
        int, typer.Option(min=1, max=366, help="Days of messages each mining run clusters.")
    ] = 30,
    propose_minutes: Annotated[
        float, typer.Option(min=0.01, help="Minutes between looks for new proposed answers.")
    ] = 10.0,
) -> None:
    """Keep the hotspots up to date as conversations happen (runs until stopped)."""
    from helixdesk.insight.worker import run_worker

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run_worker(
                settings,
                poll_seconds=poll,
                mine_every=timedelta(hours=mine_hours),
                window_days=days,
                propose_every=timedelta(minutes=propose_minutes),
            )
        )


def _vectoriser(settings: Settings) -> Vectoriser:
    from helixdesk.insight.embedder import Vectoriser, intent_reader

    return Vectoriser(intent_reader(settings.model_dir / settings.pack))


@app.command("embed")
def embed_command() -> None:
    """Embed every insight row stored without a vector (the worker does this as rows arrive)."""
    from helixdesk.insight.embedder import embed_pending

    settings = Settings()
    sessions, vectorise, total = _sessions(settings), _vectoriser(settings), 0
    while n := embed_pending(sessions, vectorise, limit=256):
        total += n
        err.print(f"embedded {total}", highlight=False)
    out.print(f"embedded {total} rows")


@app.command("mine")
def mine_command(
    days: Annotated[int, typer.Option(min=1, max=366, help="Days of messages to cluster, up to now.")] = 30,
    k: Annotated[
        int | None, typer.Option(min=2, max=500, help="Number of topics (default: by silhouette).")
    ] = None,
) -> None:
    """Mine the hotspots of the last `--days` now (rows not embedded yet are embedded first)."""
    from helixdesk.insight.embedder import embed_pending
    from helixdesk.insight.mining import MIN_ROWS, mine_window

    settings = Settings()
    sessions, vectorise = _sessions(settings), _vectoriser(settings)
    while embed_pending(sessions, vectorise, limit=256):
        pass
    now = utcnow()
    summary = mine_window(sessions, since=now - timedelta(days=days), until=now, k=k)
    if summary is None:
        _fail(
            ValidationFailedError(
                f"fewer than {MIN_ROWS} messages in the last {days} days", code="too_few_messages"
            )
        )
    out.print(
        f"mined {summary.messages} messages into {summary.topics} topics ({summary.new_topics} new) "
        f"in {summary.seconds:.1f}s (run {summary.run_id})"
    )


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        _fail(ValidationFailedError(f"--{name} must be an ISO date-time", code="invalid_period"))
    return when if when.tzinfo is not None else when.astimezone()


@app.command("propose")
def propose_command() -> None:
    """Look for clusters of questions the bot could not answer and propose answers now."""
    from helixdesk.insight.embedder import embed_pending
    from helixdesk.insight.proposals import Proposals

    settings = Settings()
    sessions, vectorise = _sessions(settings), _vectoriser(settings)
    while embed_pending(sessions, vectorise, limit=256):
        pass
    made = Proposals(sessions=sessions).generate()
    out.print(f"proposed {len(made)} answers")


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="A CSV file: source,channel,text[,at,language,external_id].")],
) -> None:
    """Import feedback (callback notes, social-media comments) into the hotspots: read by the NLU,
    masked, tagged with its channel. All or nothing; an item with an external id is imported once."""
    from helixdesk.edge.wiring import build_nlu
    from helixdesk.insight.feed import load_products
    from helixdesk.insight.feedback import check, parse_csv, store
    from helixdesk.packs.loader import load_pack
    from helixdesk.privacy.keys import resolve_keyring
    from helixdesk.privacy.transcripts import TranscriptPrivacy

    settings = Settings()
    if not path.is_file():
        _fail(ValidationFailedError(f"no file {path}", code="invalid_feedback_file"))
    try:
        items = check(parse_csv(path.read_bytes()))
    except AppError as e:
        _fail(e)
    pack = load_pack(settings.pack)
    turns = build_nlu(settings, pack).parse_batch([i.text for i in items])
    privacy = TranscriptPrivacy(keyring=resolve_keyring(settings))
    done = store(
        _sessions(settings),
        items,
        turns,
        mask=lambda text: privacy.mask(text).text,
        products=load_products(pack.path),
    )
    out.print(f"imported {done['added']} items ({done['already']} were there already)")


@app.command("report")
def report_command(
    period: Annotated[
        str, typer.Option(help="day, week or month up to now (unless --since/--until).")
    ] = "week",
    since: Annotated[str | None, typer.Option(help="Start (ISO date-time).")] = None,
    until: Annotated[str | None, typer.Option(help="End (ISO date-time, exclusive).")] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    language: Annotated[str | None, typer.Option()] = None,
    product: Annotated[str | None, typer.Option()] = None,
    queue: Annotated[str | None, typer.Option()] = None,
    source: Annotated[str | None, typer.Option(help="chat, csat, callback or social.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """The hotspots of a period: size, trend, handoff and negative shares, spikes."""
    from helixdesk.db.session import reading
    from helixdesk.insight.hotspots import hotspots, report_csv
    from helixdesk.insight.query import parse_filters, parse_period

    settings = Settings()
    try:
        chosen = parse_period(period, _when(since, "since"), _when(until, "until"), utcnow())
        filters = parse_filters(
            channel=channel, language=language, product=product, queue=queue, source=source
        )
        with reading(_sessions(settings)) as s:
            report = hotspots(s, chosen, filters)
    except AppError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    if as_csv:
        sys.stdout.write(report_csv(report))
        return
    table = Table(
        title=f"Hotspots {report.since:%Y-%m-%d %H:%M} - {report.until:%Y-%m-%d %H:%M} ({report.total} messages)"
    )
    for col in ("topic", "keywords", "size", "prev", "trend", "handoff", "negative", "spike"):
        table.add_column(col)
    for h in report.hotspots:
        table.add_row(
            h.topic_id,
            " ".join(h.keywords[:4]),
            str(h.size),
            str(h.previous),
            "new" if h.trend is None else f"{h.trend:+.0%}",
            f"{h.handoff_share:.0%}",
            f"{h.negative_share:.0%}",
            "SPIKE" if h.spike else "",
        )
    out.print(table)


@app.command("demo")
def demo_command(
    days: Annotated[int, typer.Option(min=7, max=90, help="Days of history up to now.")] = 30,
    per_day: Annotated[int, typer.Option(min=1, max=2000, help="Conversations a day, on average.")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed (the same seed gives the same month).")] = 7,
    if_empty: Annotated[bool, typer.Option(help="Do nothing when demo history is there already.")] = False,
) -> None:
    """Write a month of demo conversations, with a planted spike in the last days."""
    from helixdesk.insight.demo import generate

    settings = Settings()
    try:
        made = generate(settings, days=days, per_day=per_day, seed=seed, if_empty=if_empty)
    except AppError as e:
        _fail(e)
    out.print(made)
