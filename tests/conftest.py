"""Shared fixtures: a fresh SQLite database per test, a per-run PostgreSQL database, Redis, the app."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import AuditLog
from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.edge.tables import Base
from helixdesk.privacy.crypto import Keyring, generate_key

PG_ADMIN_URL = os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HELIXDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test run only, migrated once, dropped at the end."""
    name = f"helixdesk_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_pg(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test run; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "helixdesk.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_engine(engine)
    engine.dispose()
    return path


def _fresh_sqlite(template: Path, folder: Path) -> str:
    target = folder / "helixdesk.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """Contract tests take this fixture and run once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield _fresh_sqlite(sqlite_template, tmp_path)
    else:
        url = request.getfixturevalue("pg_database")
        engine = make_engine(url)
        _truncate_pg(engine)
        engine.dispose()
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    return _fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    """An encryption keyring with one fresh key (the vault and the demo outbox need one)."""
    return Keyring.parse(generate_key("test"))


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default pack's intent and emotion models, trained once per test run (as `nlu train` does).

    The emotion model is trained on the pack's own examples only, to keep the run short; the
    shipped model also learns from XED (see bench/nlu/emotion_bench.py).
    """
    from helixdesk.nlu.emotion import train_emotion_model
    from helixdesk.nlu.intent.artefacts import save_model
    from helixdesk.nlu.intent.data import data_sha256, load_examples
    from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig

    root = tmp_path_factory.mktemp("models")
    examples = load_examples("pack")
    model = IntentClassifier.train(examples, IntentConfig())
    save_model(model, root / "retail_bank" / "intent" / "v1", data_sha256=data_sha256(examples))
    train_emotion_model(root / "retail_bank" / "emotion" / "v1", pack="retail_bank", use_xed=False)
    return root


@pytest.fixture
def server_env(model_root: Path) -> dict[str, str]:
    """Environment for a `helixdesk serve` subprocess (add the database URL)."""
    return {"HELIXDESK_MODEL_DIR": str(model_root), "HELIXDESK_LOG_LEVEL": "warning"}


@pytest.fixture
def settings_for(model_root: Path):  # type: ignore[no-untyped-def]
    def build(database_url: str, **overrides: object) -> Settings:
        # In-process apps parse on a thread (no NLU process per app); the server tests run the default.
        overrides.setdefault("nlu_process", False)
        overrides.setdefault("model_dir", model_root)
        return Settings(_env_file=None, database_url=database_url, **overrides)  # type: ignore[arg-type,call-arg]

    return build


@pytest.fixture(scope="session")
def nlu_pipeline(model_root: Path):  # type: ignore[no-untyped-def]
    """The default pack's NLU with the trained models, loaded once per test run."""
    from helixdesk.edge.wiring import build_nlu
    from helixdesk.packs.loader import load_pack

    settings = Settings(_env_file=None, model_dir=model_root)  # type: ignore[call-arg]
    pipeline = build_nlu(settings, load_pack(settings.pack))
    pipeline.warm_up()
    return pipeline


@pytest.fixture(scope="session")
def nlu_parser(nlu_pipeline):  # type: ignore[no-untyped-def]
    from helixdesk.nlu.batcher import ParseBatcher

    parser = ParseBatcher(nlu_pipeline)
    parser.start()
    yield parser
    parser.stop()


@pytest.fixture
def make_conversations(settings_for, keyring: Keyring, nlu_pipeline, nlu_parser):  # type: ignore[no-untyped-def]
    """The real wiring of the default pack (`Container.build`) over `sessions` and `bus`, with the
    NLU models of this test run. `container.conversations` is the conversation service;
    `await container.settle()` publishes the stored events and lets the bus deliver them."""
    from helixdesk.edge.container import Container

    def build(
        sessions: sessionmaker[Session], bus, parts: dict[str, object] | None = None, **settings: object
    ) -> Container:  # type: ignore[no-untyped-def]
        engine = sessions.kw["bind"]
        container = Container.build(
            settings_for(engine.url.render_as_string(hide_password=False), secret_key="t" * 32, **settings),
            engine=engine,
            sessions=sessions,
            bus=bus,
            keyring=keyring,
            audit=AuditLog(key=b"t" * 32),
            nlu=nlu_pipeline,
            parser=nlu_parser,
            **(parts or {}),
        )
        container.knowledge.load()
        return container

    return build
