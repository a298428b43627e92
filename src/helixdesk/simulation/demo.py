"""A database ready for simulated customers: migrated, with the demo bank, the pack's FAQ in the
knowledge base and today's demo exchange rates (what `scripts/demo.sh` loads, in one call). What
is there already is kept: a bank with customers is not loaded again, an unchanged FAQ is not
ingested again, published rates are not replaced."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.rates import RateService
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.models import BankCustomer
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction
from helixdesk.knowledge.ingest import ingest
from helixdesk.nlu.embeddings import embed


def demo_database(
    url: str, *, customers: int, seed: int, pack: str = "retail_bank", tz: tzinfo | None = None
) -> tuple[Engine, sessionmaker[Session]]:
    """Migrate `url`, load the demo bank of `customers` customers (`seed`) unless the bank has
    customers, the pack's FAQ, and demo rates dated now unless rates are published; the caller
    disposes of the engine."""
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with reading(sessions) as s:
        empty = not s.scalar(select(func.count()).select_from(BankCustomer))
    if empty:
        with transaction(sessions) as s:
            import_bank_file(s, build_demo_bank(customers, seed=seed, tz=tz))
    ingest(sessions, [], embed=embed, pack=pack)
    rates = RateService(sessions=sessions)
    if not rates.all():
        rates.seed_demo(as_of=datetime.now(UTC))
    return engine, sessions
