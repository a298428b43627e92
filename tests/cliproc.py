"""Run the `helixdesk` command in a subprocess, as a user runs it (CLI integration tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def helixdesk_cli(
    cwd: Path, *, env: dict[str, str], timeout: float = 120
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`helixdesk ARGS...` in a subprocess with this environment, as a user runs it."""
    full_env = {**os.environ, **env}

    def helixdesk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "helixdesk", *args],
            env=full_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )

    return helixdesk
