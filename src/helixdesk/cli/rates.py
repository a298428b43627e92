"""`helixdesk rates`: the exchange-rate table the bank publishes (set, import, list, seed-demo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from helixdesk.actions.rates import Rate, RateService, parse_as_of
from helixdesk.cli.context import bank_zone
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory

app = typer.Typer(help="Exchange rates the bank publishes (CNY per 1 unit).", no_args_is_help=True)
out = Console()


@contextmanager
def _service() -> Iterator[RateService]:
    engine = make_engine(Settings().database_url)
    try:
        yield RateService(sessions=make_session_factory(engine))
    finally:
        engine.dispose()


def _table(title: str, rates: list[Rate]) -> None:
    table = Table(title=title)
    for column in ("currency", "buy", "sell", "as_of", "source", "updated_by"):
        table.add_column(column, justify="right" if column in ("buy", "sell") else "left")
    tz = bank_zone(Settings())  # in the bank's local time, as customers see it
    for r in rates:
        as_of = r.as_of.astimezone(tz).isoformat()
        table.add_row(r.currency, str(r.buy), str(r.sell), as_of, r.source, r.updated_by)
    out.print(table)


@app.command("set")
def set_rate(
    currency: Annotated[str, typer.Argument(help="ISO code, e.g. USD")],
    buy: Annotated[str, typer.Option("--buy", help="CNY the bank pays for 1 unit")],
    sell: Annotated[str, typer.Option("--sell", help="CNY the bank charges for 1 unit")],
    as_of: Annotated[str, typer.Option("--as-of", help="ISO date-time; default now")] = "",
    source: Annotated[str, typer.Option(help="Where the figures come from")] = "cli",
    updated_by: Annotated[str, typer.Option("--by", help="Who sets it")] = "cli",
) -> None:
    """Create or replace one currency's rate."""
    with _service() as rates:
        rate = rates.set(
            currency,
            buy=buy,
            sell=sell,
            as_of=parse_as_of(as_of or None, datetime.now(UTC)),
            source=source,
            updated_by=updated_by,
        )
    _table("rate set", [rate])


@app.command("import")
def import_rates(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file")],
    source: Annotated[str, typer.Option(help="Where the figures come from")] = "",
    updated_by: Annotated[str, typer.Option("--by", help="Who imports them")] = "cli",
) -> None:
    """Load `currency,buy,sell[,as_of]` lines. Any bad line: nothing is written, every error is listed."""
    text = path.read_text(encoding="utf-8")
    with _service() as rates:
        done = rates.import_csv(
            text, source=source or path.name, updated_by=updated_by, now=datetime.now(UTC)
        )
    _table(f"imported {len(done)} rate(s) from {path.name}", done)


@app.command("list")
def list_rates() -> None:
    """Show every published rate."""
    with _service() as rates:
        _table("exchange rates (CNY per 1 unit)", rates.all())


@app.command("seed-demo")
def seed_demo(
    as_of: Annotated[str, typer.Option("--as-of", help="Date (YYYY-MM-DD) the demo figures are dated")] = "",
) -> None:
    """Write DEMO figures (source `demo`, not market data) for USD, EUR, GBP, HKD, JPY, AUD, SGD."""
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as e:
        raise ValidationFailedError(
            f"--as-of must be a date like 2026-11-23, not {as_of!r}", code="bad_date"
        ) from e
    when = datetime.combine(day, time(9, 30), bank_zone(Settings())) if day else datetime.now(UTC)
    with _service() as rates:
        done = rates.seed_demo(as_of=when)
    _table("demo exchange rates (demo figures, not market data)", done)
