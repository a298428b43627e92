"""What several benchmarks share: an older commit checked out beside this one, to measure both in one run."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
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
