"""A database ready for simulated customers: migrated, with the demo bank, the pack's FAQ in the
knowledge base and today's demo exchange rates (what `scripts/demo.sh` loads, in one call)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.rates import RateService
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.knowledge.ingest import ingest
from helixdesk.nlu.embeddings import embed


def demo_database(
    url: str, *, customers: int, seed: int, pack: str = "retail_bank", tz: tzinfo | None = None
) -> tuple[Engine, sessionmaker[Session]]:
    """Migrate `url` (an empty database) and load the demo bank of `customers` customers (`seed`),
    the pack's FAQ and demo rates dated now; the caller disposes of the engine."""
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(customers, seed=seed, tz=tz))
    ingest(sessions, [], embed=embed, pack=pack)
    RateService(sessions=sessions).seed_demo(as_of=datetime.now(UTC))
    return engine, sessions
