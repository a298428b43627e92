"""What several benchmarks share: an older commit checked out beside this one, to measure both in one run."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """`rev` checked out in a temporary git worktree (removed afterwards); its code is `<path>/src`,
    which a server of this venv runs with `PYTHONPATH` pointing there."""
    where = Path(tempfile.mkdtemp(prefix="helixdesk-rev-"))
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), rev],
        check=True,
        capture_output=True,
    )
    try:
        yield where
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], capture_output=True
        )
        shutil.rmtree(where, ignore_errors=True)


@contextlib.contextmanager
def database(kind: str, tmp: Path, admin: str, prefix: str = "bench") -> Iterator[str]:
    """A fresh database for one measurement: a SQLite file in `tmp`, or a PostgreSQL database of
    its own on the server at `admin` (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'{prefix}-{uuid.uuid4().hex[:6]}.db'}"
        return
    import psycopg

    name = f"helixdesk_{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
