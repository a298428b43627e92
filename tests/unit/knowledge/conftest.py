from __future__ import annotations

from pathlib import Path

import pytest

from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.knowledge.graph import KnowledgeGraph
from helixdesk.knowledge.ingest import ingest
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.nlu.embeddings import embed


@pytest.fixture(scope="session")
def pack_kb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with the pack FAQ ingested once per run (real USE embeddings)."""
    folder: Path = tmp_path_factory.mktemp("kb")
    url = f"sqlite:///{folder / 'kb.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    ingest(make_session_factory(engine), [], embed=embed, pack="retail_bank")
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def pack_kb(pack_kb_url: str) -> KnowledgeBase:
    kb = KnowledgeBase(
        sessions=make_session_factory(make_engine(pack_kb_url)),
        embed=embed,
        graph=KnowledgeGraph.from_pack("retail_bank"),
    )
    kb.load()
    return kb
