"""`helixdesk serve`: run the platform with uvicorn."""

from __future__ import annotations

import subprocess
import sys

import typer
import uvicorn
from rich.console import Console

from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade

out = Console()


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (use the redis event bus with >1)."),
    migrate: bool = typer.Option(True, help="Apply database migrations before starting."),
) -> None:
    """Serve the API, the WebSocket chat and the pages."""
    settings = Settings()
    if workers > 1 and settings.event_bus != "redis":
        out.print(
            "[yellow]warning:[/] several workers with the in-memory event bus: live updates reach only the "
            "worker that produced them. Set HELIXDESK_EVENT_BUS=redis."
        )
    if migrate:
        upgrade(settings)
    base = f"http://{host}:{port}"
    out.print(f"Helixdesk on {base}")
    out.print(f"  customer chat   {base}/")
    out.print(f"  API docs        {base}/docs")
    children = [
        child
        for child in (
            _start_worker(settings.quality_worker, "quality monitoring", "qa"),
            _start_worker(settings.insight_worker, "insight", "insight"),
            _start_worker(settings.analytics_worker, "analytics", "analytics"),
            _start_worker(settings.outreach_worker, "outreach", "outreach"),
            _start_worker(settings.drift_worker, "drift monitoring", "drift"),
            _start_worker(settings.learning_worker, "learning (labelling queue, shadow runs)", "learning"),
            _start_phone(settings),
        )
        if child is not None
    ]
    try:
        _run(settings, host, port, workers)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def _start_worker(enabled: bool, what: str, command: str) -> subprocess.Popen[bytes] | None:
    """A consumer in a process of its own (`helixdesk qa run`, `helixdesk insight run`), so it
    never slows a turn."""
    if not enabled:
        return None
    out.print(f"  {what}: helixdesk {command} run (child process)")
    return subprocess.Popen([sys.executable, "-m", "helixdesk", command, "run"])


def _start_phone(settings: Settings) -> subprocess.Popen[bytes] | None:
    """The phone channel's AudioSocket server (`helixdesk voice serve`), when its port is set: one
    process, however many web workers run."""
    if not settings.voice_audiosocket_port:
        return None
    where = f"{settings.voice_audiosocket_host}:{settings.voice_audiosocket_port}"
    out.print(f"  phone channel   AudioSocket on {where}: helixdesk voice serve (child process)")
    return subprocess.Popen([sys.executable, "-m", "helixdesk", "voice", "serve"])


def _run(settings: Settings, host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "helixdesk.edge.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        access_log=False,
        # Live streams end as soon as SIGTERM arrives (`edge.app`); anything else still running
        # after the grace period is cancelled, so a rolling restart never stalls.
        timeout_graceful_shutdown=int(max(1, settings.shutdown_grace_seconds)),
        # A WebSocket frame larger than a request body closes the connection (1009) unread.
        ws_max_size=max(settings.max_request_bytes, 1024),
    )
