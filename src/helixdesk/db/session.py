"""Engine and session factory. No commits happen here: service functions own transactions."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class _WriterQueue:
    """The SQLite writers of this process, one at a time, first come first served.

    SQLite has one writer per database. Left to itself, a writer that finds the database locked
    sleeps in SQLite's busy handler (1, 2, 5, ... up to 100 ms at a time), so under load most of a
    request's time is spent asleep. Writers of one process instead wait here for each other, and
    SQLite's own wait only matters between processes.
    """

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout

    def enter(self) -> None:
        if not self._lock.acquire(timeout=self._timeout):
            raise sqlite3.OperationalError("database is locked (no write turn within the timeout)")

    def leave(self) -> None:
        self._lock.release()


class _Connection(sqlite3.Connection):
    """A SQLite connection that leaves the writer queue when its write transaction ends."""

    writers: _WriterQueue | None = None
    writing = False

    def _done(self) -> None:
        if self.writing:
            self.writing = False
            if self.writers is not None:
                self.writers.leave()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._done()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._done()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._done()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        writers = _WriterQueue(timeout=30)
        if ":memory:" not in url and "pool_size" not in kwargs:
            # Every worker thread (up to 40) may hold a connection; with fewer kept in the pool the
            # rest are opened and closed again for each request.
            kwargs |= {"pool_size": 40, "max_overflow": 20}
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30, "factory": _Connection}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # The driver's implicit transactions are disabled so that BEGIN IMMEDIATE below takes the
            # write lock at the start of each transaction (no deadlocking lock upgrades under load).
            dbapi_conn.isolation_level = None
            dbapi_conn.writers = writers
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Readers (`reading`) begin DEFERRED: in WAL mode they never wait for the writer.
            if conn.get_execution_options().get(READ_ONLY, False):
                conn.exec_driver_sql("BEGIN")
                return
            dbapi_conn = conn.connection.dbapi_connection
            writers.enter()
            dbapi_conn.writing = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                dbapi_conn._done()
                raise

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


READ_ONLY = "helixdesk_read_only"
_readers: weakref.WeakKeyDictionary[sessionmaker[Session], sessionmaker[Session]] = (
    weakref.WeakKeyDictionary()
)


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that only reads. On SQLite it does not take the write lock, so reads never queue
    behind writes; on PostgreSQL it is an ordinary session. Nothing it does is committed."""
    reader = _readers.get(factory)
    if reader is None:
        bind = factory.kw["bind"]
        reader = sessionmaker(bind=bind.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
        _readers[factory] = reader
    with reader() as session:
        yield session


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    with factory() as session, session.begin():
        yield session
