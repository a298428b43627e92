"""`helixdesk customers export|erase REF`: the customer's rights to a copy and to erasure (PIPL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from helixdesk.cli.context import open_store, operator
from helixdesk.core.settings import Settings

app = typer.Typer(help="A customer's personal information: export a copy, or erase it.", no_args_is_help=True)
out = Console()


@app.command("export")
def export_command(
    ref: str = typer.Argument(..., help="Bank customer number (C000001) or Helixdesk customer id."),
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON here instead of stdout.")
    ] = None,
    reason: str = typer.Option("", help="Why (e.g. the request's reference), for the audit log."),
    by: str = typer.Option("", "--by", help="Who runs it, for the audit log (default: your user name)."),
) -> None:
    """Everything Helixdesk holds about the customer, as JSON (audited), the images they sent
    included (decrypted, base64)."""
    from helixdesk.privacy.keys import resolve_keyring
    from helixdesk.rights import export_customer  # heavy: only this command needs it

    with open_store() as store:
        data = export_customer(
            store.sessions,
            store.audit,
            ref,
            actor=operator(by),
            reason=reason,
            keyring=resolve_keyring(store.settings),
        )
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        output.chmod(0o600)
        out.print(f"wrote {output} ({len(data['conversations'])} conversations)")


def _forget_in_insight(sessions: Any, conversation_ids: tuple[str, ...]) -> int:
    """The erased conversations leave the proposed answers that quoted them (insight rows went with
    the conversations: a foreign key)."""
    from helixdesk.db.session import transaction
    from helixdesk.insight.clusters import forget_in_proposals

    with transaction(sessions) as s:
        return forget_in_proposals(s, conversation_ids)


@app.command("erase")
def erase_command(
    ref: str = typer.Argument(..., help="Bank customer number (C000001) or Helixdesk customer id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    reason: str = typer.Option("", help="Why (e.g. the request's reference), for the audit log."),
    by: str = typer.Option("", "--by", help="Who runs it, for the audit log (default: your user name)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Delete the customer's conversations, messages, issues, states, codes and notifications."""
    from helixdesk.rights import erase_customer  # heavy: only this command needs it

    if not yes:
        typer.confirm(
            f"Erase everything Helixdesk holds about {ref}? The core bank's records are not touched.",
            abort=True,
        )
    with open_store() as store:
        report = erase_customer(store.sessions, store.audit, ref, actor=operator(by), reason=reason)
        dropped = _forget_on_bus(store.settings, report.conversation_ids)
        proposals = _forget_in_insight(store.sessions, report.conversation_ids)
    if as_json:
        typer.echo(
            json.dumps(report.to_dict() | {"event_stream_deleted": dropped, "proposals_scrubbed": proposals})
        )
        return
    out.print(f"erased customer {report.ref}:")
    for name, n in report.deleted.items():
        if n:
            out.print(f"  {name}: {n} deleted")
    out.print(
        f"kept: {report.kept['audit_entries']} audit entries, {report.kept['disputes']} disputes "
        "(records the bank must keep; no message text). Core bank data is untouched."
    )
    if dropped is not None:
        out.print(f"  event stream entries: {dropped} deleted")
    if proposals:
        out.print(f"  proposed answers: {proposals} no longer quote their conversations")
    out.print(f"recorded in the audit log as entry {report.audit_seq}")


def _forget_on_bus(settings: Settings, conversation_ids: tuple[str, ...]) -> int | None:
    """Drop the conversations' events from the bus too (None: the bus keeps nothing). Redis: the
    stream entries deleted; NATS: the conversations whose subjects were purged."""
    import asyncio

    from helixdesk.bus.protocol import KeepingBus
    from helixdesk.edge.wiring import build_bus

    bus = build_bus(settings)
    if not isinstance(bus, KeepingBus) or not conversation_ids:
        return None

    async def forget(bus: KeepingBus) -> int:
        await bus.connect()
        try:
            return await bus.forget_conversations(conversation_ids)
        finally:
            await bus.close()

    return asyncio.run(forget(bus))
