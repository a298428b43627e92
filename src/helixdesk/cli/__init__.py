"""The `helixdesk` command line (Typer + Rich). Errors exit with code 2 and a stable error code."""

from __future__ import annotations

import importlib
import logging
import sys
from difflib import get_close_matches
from typing import TYPE_CHECKING

import typer
import typer.main
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from helixdesk.core.errors import AppError
from helixdesk.privacy.logs import install_log_masking

if TYPE_CHECKING:
    from typer._click import Command, Context  # the click typer ships; its groups are typed with it

# Each command's module is imported only when that command runs: `helixdesk users create` does not
# load the analytics or the models' libraries. Name -> (module in helixdesk.cli, its Typer app or
# command function).
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "serve"),
    "chat": ("chat", "chat"),
    "simulate": ("simulate", "simulate"),
    "db": ("db", "app"),
    "bank": ("bank", "app"),
    "nlu": ("nlu", "app"),
    "outbox": ("outbox", "app"),
    "rates": ("rates", "app"),
    "kb": ("kb", "app"),
    "users": ("users", "app"),
    "apikeys": ("apikeys", "app"),
    "keys": ("keys", "app"),
    "audit": ("audit", "app"),
    "retention": ("retention", "app"),
    "customers": ("customers", "app"),
    "qa": ("qa", "app"),
    "insight": ("insight", "app"),
    "analytics": ("analytics", "app"),
    "lifecycle": ("lifecycle", "app"),
    "outreach": ("outreach", "app"),
    "llm": ("llm", "app"),
    "drift": ("drift", "app"),
    "learning": ("learning", "app"),
    "model": ("model", "app"),
    "voice": ("voice", "app"),
}


class _Commands(TyperGroup):
    """The top-level commands, each loaded from its module when it is asked for."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        # The suggestions for a mistyped command come from the table (no command is loaded yet).
        if args and not args[0].startswith("-") and args[0] not in COMMANDS:
            matches = get_close_matches(args[0], list(COMMANDS))
            if matches:
                ctx.fail(f"No such command {args[0]!r}. Did you mean {', '.join(map(repr, matches))}?")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        # Every table is known before a command touches the database: a model's foreign keys name
        # tables of other packages' modules, which the command itself may not import.
        importlib.import_module("helixdesk.edge.tables")
        found = getattr(importlib.import_module(f"helixdesk.cli.{module}"), attribute)
        holder = typer.Typer()
        if isinstance(found, typer.Typer):
            holder.add_typer(found, name=cmd_name)
        else:
            holder.command(cmd_name)(found)
        holder.callback()(lambda: None)  # a group even with one command, so it is found by name
        return typer.main.get_group(holder).get_command(ctx, cmd_name)


app = typer.Typer(
    name="helixdesk",
    cls=_Commands,
    help="Helixdesk: self-hosted intelligent customer service for banks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Helixdesk: self-hosted intelligent customer service for banks."""


err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        app()
    except AppError as e:
        err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
        sys.exit(2)
