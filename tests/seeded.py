"""A migrated database with the demo bank, the pack's FAQ and demo exchange rates (scenario tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.rates import RateService
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.knowledge.ingest import ingest
from helixdesk.nlu.embeddings import embed


def seeded_database(url: str, *, customers: int = 60, seed: int = 11) -> tuple[Engine, sessionmaker[Session]]:
    """Migrate `url` and load the demo bank, the FAQ and today's demo rates; the caller disposes."""
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(customers, seed=seed))
    ingest(sessions, [], embed=embed, pack="retail_bank")
    RateService(sessions=sessions).seed_demo(as_of=datetime.now(UTC))
    return engine, sessions
