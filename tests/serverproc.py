"""Run a real `helixdesk serve` in a subprocess for browser, crash and multi-worker tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def model_server(name: str, database: str, model_root: Path, logs: Path, **env: str) -> Server:
    """A started `helixdesk serve` on `database` with the test run's models, quiet, its log in
    `logs`, its own secret key (from `name`) and `env` as further HELIXDESK_ settings."""
    settings = {
        "HELIXDESK_DATABASE_URL": database,
        "HELIXDESK_MODEL_DIR": str(model_root),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_SECRET_KEY": f"{name}-" + "k" * 32,
        **env,
    }
    return Server(settings, log=logs / "server.log").start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], *, workers: int = 1, log: Path | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # Insight (embedding every message), analytics, outreach, drift and learning run only where a test asks for them.
        self.env = {
            **os.environ,
            "HELIXDESK_INSIGHT_WORKER": "false",
            "HELIXDESK_ANALYTICS_WORKER": "false",
            "HELIXDESK_OUTREACH_WORKER": "false",
            "HELIXDESK_DRIFT_WORKER": "false",
            "HELIXDESK_LEARNING_WORKER": "false",
            **env,
        }
        self.workers = workers
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    def start(self, timeout: float = 60.0) -> Server:
        out: Any = subprocess.DEVNULL
        if self.log is not None:
            self._log_file = self.log.open("ab")
            out = self._log_file
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "helixdesk",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not become healthy in time")

    def kill(self) -> None:
        """Kill without any chance to clean up (SIGKILL to the whole process group)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()
