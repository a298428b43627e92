"""`helixdesk voice serve`: the phone channel's AudioSocket server (docs/telephony.md)."""

from __future__ import annotations

import asyncio
import contextlib

import typer
from rich.console import Console

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings

app = typer.Typer(help="The phone channel: calls from Asterisk (AudioSocket).", no_args_is_help=True)
out = Console()


@app.command("serve")
def serve(
    host: str = typer.Option("", help="Interface to listen on (default: HELIXDESK_VOICE_AUDIOSOCKET_HOST)."),
    port: int = typer.Option(
        0, min=0, max=65535, help="TCP port (default: HELIXDESK_VOICE_AUDIOSOCKET_PORT)."
    ),
) -> None:
    """Answer phone calls from Asterisk's AudioSocket() until stopped."""
    settings = Settings()
    chosen = port or settings.voice_audiosocket_port
    if not chosen:
        raise ConfigurationError(
            "no AudioSocket port: set HELIXDESK_VOICE_AUDIOSOCKET_PORT or pass --port",
            code="voice_port_unset",
        )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings, host or settings.voice_audiosocket_host, chosen))


async def _serve(settings: Settings, host: str, port: int) -> None:
    from helixdesk.channels.phone.server import PhoneServer
    from helixdesk.edge.container import Container  # heavy: only this command needs it

    container = Container.build(settings)
    await container.start()
    server = PhoneServer(container.phone, host=host, port=port, max_calls=settings.voice_max_calls)
    try:
        await server.start()
        out.print(f"Helixdesk phone channel: AudioSocket on {host}:{server.port}")
        await asyncio.Event().wait()
    finally:
        await server.stop()
        await container.stop()
