"""`helixdesk bank`: the embedded demo core bank (seed and import)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import delete, func, select

from helixdesk.bank import models as bm
from helixdesk.bank.importer import ImportSummary, import_bank_file, parse_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.cli.context import bank_zone
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction

app = typer.Typer(help="The embedded demo core bank.", no_args_is_help=True)
out = Console()


def _summary(title: str, summary: ImportSummary) -> None:
    table = Table(title=title)
    table.add_column("records")
    table.add_column("count", justify="right")
    for name, value in asdict(summary).items():
        table.add_row(name.replace("_", " "), str(value))
    out.print(table)


@app.command("seed")
def seed(
    customers: int = typer.Option(200, min=1, max=100_000, help="How many customers to generate."),
    seed_value: int = typer.Option(7, "--seed", help="Random seed; the same seed gives the same data."),
    as_of: str = typer.Option("", help="Date the data is generated around (YYYY-MM-DD); default today."),
    reset: bool = typer.Option(False, help="Delete the existing demo bank data first."),
    if_empty: bool = typer.Option(False, help="Do nothing when the bank already has customers."),
) -> None:
    """Generate a deterministic, realistic demo dataset (Chinese and English customers)."""
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as e:
        raise ValidationFailedError(
            f"--as-of must be a date like 2026-11-23, not {as_of!r}", code="bad_date"
        ) from e
    settings = Settings()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    with reading(sessions) as s:
        existing = s.scalar(select(func.count()).select_from(bm.BankCustomer)) or 0
    if existing and if_empty:
        out.print(f"the demo bank already has {existing} customers; nothing to do")
        return
    if existing and not reset:
        raise ValidationFailedError(
            f"the demo bank already has {existing} customers; use --reset to replace them or --if-empty to skip",
            code="bank_not_empty",
        )
    with out.status("generating the demo bank…"):
        bank_file = build_demo_bank(customers, seed=seed_value, as_of=day, tz=bank_zone(settings))
    with out.status("writing…"), transaction(sessions) as s:
        if reset:
            for table in (
                bm.BankMonthlyActivity,
                bm.BankTransfer,
                bm.BankTransaction,
                bm.BankInstallmentPlan,
                bm.BankStatement,
                bm.BankCard,
                bm.BankAccount,
                bm.BankCustomer,
            ):
                s.execute(delete(table))
        summary = import_bank_file(s, bank_file)
    engine.dispose()
    _summary(f"demo bank seeded (seed {seed_value})", summary)


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The JSON file.")],
) -> None:
    """Load a bank JSON file (docs/bank-import.md). Any problem: nothing is written."""
    text = path.read_text(encoding="utf-8")
    bank_file = parse_bank_file(text)
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as s:
            summary = import_bank_file(s, bank_file)
    finally:
        engine.dispose()
    _summary(f"imported {path.name}", summary)
