"""`helixdesk users`: staff accounts (create, list, disable, enable, reset-password, seed-demo)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from helixdesk.auth.demo import seed_demo_staff
from helixdesk.auth.service import StaffAccounts, StaffView
from helixdesk.cli.context import open_store, operator

app = typer.Typer(help="Staff accounts: agents, supervisors, administrators.", no_args_is_help=True)
out = Console()


@contextmanager
def _accounts() -> Iterator[StaffAccounts]:
    """The accounts, with every change audited as the operator running the command."""
    with open_store() as store:
        yield StaffAccounts(
            sessions=store.sessions,
            password_min_length=store.settings.password_min_length,
            audit=store.audit,
            actor=operator(),
        )


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


def _show(users: list[StaffView]) -> None:
    table = Table(title="staff accounts")
    for column in ("user", "name", "roles", "queues", "languages", "capacity", "employee code", "state"):
        table.add_column(column)
    for u in users:
        state = "disabled" if u.disabled else ("locked" if u.locked_until else u.presence)
        table.add_row(
            u.username,
            u.display_name,
            ", ".join(u.roles),
            ", ".join(u.queues),
            ", ".join(u.languages),
            str(u.max_concurrent),
            u.employee_code or "",
            state,
        )
    out.print(table)


@app.command("create")
def create(
    username: Annotated[
        str, typer.Argument(help="Sign-in name: lower-case letters, digits, '.', '_' or '-'.")
    ],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="agent, senior, fraud, relationship_manager, supervisor, qa_reviewer, knowledge_editor, manager, operator, annotator, admin.",
        ),
    ],
    name: str = typer.Option("", help="Name shown to colleagues and customers."),
    language: Annotated[
        list[str] | None,
        typer.Option("--language", help="Languages the person serves in: zh, en (default zh)."),
    ] = None,
    skill: Annotated[
        list[str] | None, typer.Option("--skill", help="Product areas: cards, transfers, loans, wealth, ...")
    ] = None,
    employee_code: str = typer.Option(
        "", help="Employee code (relationship managers: as in the bank's CRM)."
    ),
    capacity: int = typer.Option(3, help="Most conversations at once."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Create a staff account (the password is asked for, or read from stdin)."""
    password = _password(password_stdin)
    with _accounts() as accounts:
        user = accounts.create_user(
            username=username,
            password=password,
            display_name=name or username,
            roles=role,
            languages=language or ["zh"],
            skills=skill or [],
            employee_code=employee_code or None,
            max_concurrent=capacity,
        )
    out.print(
        f"created {user.username} ({', '.join(user.roles)}; queues: {', '.join(user.queues) or 'none'})"
    )


@app.command("list")
def list_users(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of a table."),
) -> None:
    """Show every staff account."""
    with _accounts() as accounts:
        users = accounts.list_users()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "username": u.username,
                        "display_name": u.display_name,
                        "roles": list(u.roles),
                        "queues": list(u.queues),
                        "languages": list(u.languages),
                        "skills": list(u.skills),
                        "employee_code": u.employee_code,
                        "max_concurrent": u.max_concurrent,
                        "presence": u.presence,
                        "disabled": u.disabled,
                        "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                    }
                    for u in users
                ],
                ensure_ascii=False,
            )
        )
        return
    _show(users)


@app.command("disable")
def disable(username: str) -> None:
    """Disable an account and sign it out everywhere."""
    with _accounts() as accounts:
        accounts.set_disabled(username, True)
    out.print(f"{username} is disabled and signed out")


@app.command("enable")
def enable(username: str) -> None:
    """Enable a disabled account again."""
    with _accounts() as accounts:
        accounts.set_disabled(username, False)
    out.print(f"{username} is enabled")


@app.command("reset-password")
def reset_password(
    username: str,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Set a new password, clear a lock-out and sign the person out everywhere."""
    password = _password(password_stdin)
    with _accounts() as accounts:
        accounts.reset_password(username, password)
    out.print(f"the password of {username} was changed; they are signed out everywhere")


@app.command("seed-demo")
def seed_demo(
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the shared password from stdin."
    ),
) -> None:
    """Create the demo contact centre's staff (one shared password; for demos only)."""
    password = _password(password_stdin)
    with _accounts() as accounts:
        created = seed_demo_staff(accounts, password=password)
        everyone = accounts.list_users()
    out.print(f"created {len(created)} demo accounts")
    _show(everyone)
