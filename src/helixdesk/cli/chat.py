"""`helixdesk chat`: talk to the bot in the terminal, through the same service the API uses."""

from __future__ import annotations

import asyncio
import uuid

import typer
from rich.console import Console

from helixdesk.core.languages import LANGUAGES
from helixdesk.core.settings import Settings

out = Console()


def chat(
    customer: str = typer.Option("", help="Chat as this bank customer (e.g. C000001)."),
    language: str = typer.Option("", help="zh-Hans, zh-Hant or en (default: detected)."),
) -> None:
    """Chat with the bot; type /quit to leave."""
    if language and language not in LANGUAGES:
        raise typer.BadParameter("language must be zh-Hans, zh-Hant or en")
    asyncio.run(_chat(customer or None, language or None))


async def _chat(customer: str | None, language: str | None) -> None:
    from helixdesk.edge.container import Container  # heavy: only this command needs it

    container = Container.build(Settings())
    await container.start()
    try:
        conv = await container.conversations.create_conversation(
            channel="cli", customer_ref=customer, language=language
        )
        out.print(f"[dim]conversation {conv.id} — type /quit to leave[/]")
        while True:
            try:
                text = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if text.strip() in ("/quit", "/exit"):
                break
            if not text.strip():
                continue
            result = await container.conversations.post_customer_message(
                conv.id, text, client_message_id=uuid.uuid4().hex
            )
            for reply in result.replies:
                out.print(f"[bold cyan]bot>[/] {reply.text}", highlight=False)
            if result.state != "bot":
                out.print(f"[dim](conversation state: {result.state})[/]")
    finally:
        await container.stop()
