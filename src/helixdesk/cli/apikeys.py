"""`helixdesk apikeys`: keys of the channels' back ends (create, list, revoke)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from helixdesk.auth.apikeys import ApiKeys
from helixdesk.cli.context import open_store, operator

app = typer.Typer(help="API keys of the channels' back ends (mobile app, WeChat, ...).", no_args_is_help=True)
out = Console()


@contextmanager
def _keys() -> Iterator[ApiKeys]:
    """The keys, with every change audited as the operator running the command."""
    with open_store() as store:
        yield ApiKeys(sessions=store.sessions, audit=store.audit, actor=operator())


@app.command("create")
def create(
    name: str = typer.Option(..., help="What uses the key, e.g. 'mobile app back end'."),
    channel: str = typer.Option(..., help="web, app, api, wechat, social or voice."),
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="conversations (default), nlu, rates:write.")
    ] = None,
) -> None:
    """Create a key; it is printed once (only its hash is kept)."""
    with _keys() as keys:
        view, raw = keys.create(name=name, channel=channel, scopes=scope or ["conversations"])
    out.print(f"created {view.prefix}… for {view.channel} ({', '.join(view.scopes)}); keep it secret:")
    typer.echo(raw)


@app.command("list")
def list_keys(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of a table."),
) -> None:
    """Show the keys (prefixes only)."""
    with _keys() as keys:
        rows = keys.list()
    if as_json:
        fields = ("id", "prefix", "name", "channel", "scopes", "created_at", "last_used_at", "revoked_at")
        typer.echo(json.dumps([{f: _plain(getattr(k, f)) for f in fields} for k in rows], ensure_ascii=False))
        return
    table = Table(title="API keys")
    for column in ("prefix", "name", "channel", "scopes", "created", "last used", "revoked"):
        table.add_column(column)
    for k in rows:
        table.add_row(
            k.prefix,
            k.name,
            k.channel,
            ", ".join(k.scopes),
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "",
            k.revoked_at.strftime("%Y-%m-%d %H:%M") if k.revoked_at else "",
        )
    out.print(table)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


@app.command("revoke")
def revoke(key: str = typer.Argument(help="The key's id or printed prefix.")) -> None:
    """Revoke a key at once; callers using it get 401 invalid_api_key."""
    with _keys() as keys:
        view = keys.revoke(key)
    out.print(f"revoked {view.prefix} ({view.name})")
