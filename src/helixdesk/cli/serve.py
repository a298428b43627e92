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
    quality = _start_quality_worker(settings)
    try:
        _run(settings, host, port, workers)
    finally:
        if quality is not None:
            quality.terminate()
            try:
                quality.wait(timeout=10)
            except subprocess.TimeoutExpired:
                quality.kill()


def _start_quality_worker(settings: Settings) -> subprocess.Popen[bytes] | None:
    """Quality monitoring in a process of its own (`helixdesk qa run`), so it never slows a turn."""
    if not settings.quality_worker:
        return None
    out.print("  quality monitoring: helixdesk qa run (child process)")
    return subprocess.Popen([sys.executable, "-m", "helixdesk", "qa", "run"])


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
