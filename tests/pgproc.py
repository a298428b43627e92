"""A PostgreSQL server of the test's own on a free port, to stop, crash and restart at will (never
the machine's). Its data folder lives in the test's temporary folder; as root it runs as `postgres`."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.serverproc import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found (install the postgresql package)")
    return path


class PostgresServer:
    def __init__(self) -> None:
        # A folder of its own under the system's temporary folder: as root, the server runs as
        # `postgres`, which cannot enter a test's (private) temporary folder.
        self.folder = Path(tempfile.mkdtemp(prefix="helixdesk-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_root = os.geteuid() == 0

    def _run_as(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *cmd] if self._as_root else cmd

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> PostgresServer:
        if self._as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(
            self._run_as(
                [_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )
        return self

    def start(self) -> PostgresServer:
        self.proc = subprocess.Popen(
            self._run_as(
                [
                    _bin("postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.folder),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.admin_url, connect_timeout=1):
                    return self
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("postgres did not start")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def migrated_database(self, name: str) -> str:
        """A new database with Helixdesk's schema; returns its SQLAlchemy URL."""
        from helixdesk.db.migrate import upgrade_engine
        from helixdesk.db.session import make_engine

        url = self.create_database(name)
        engine = make_engine(url)
        try:
            upgrade_engine(engine)
        finally:
            engine.dispose()
        return url

    def _postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def crash(self) -> None:
        """SIGKILL the postmaster and its backends: no shutdown checkpoint, recovery at the next start."""
        pid = self._postmaster_pid()
        if pid is not None:
            children = subprocess.run(
                ["pgrep", "-P", str(pid)], capture_output=True, text=True
            ).stdout.split()
            os.kill(pid, signal.SIGKILL)
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(child), signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            pid = self._postmaster_pid()
            if pid is not None:
                os.kill(pid, signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.crash()

    def remove(self) -> None:
        """Stop the server and delete its data."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
