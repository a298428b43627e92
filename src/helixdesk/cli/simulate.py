"""`helixdesk simulate`: persona customers through the public API and the real bot, before release.

By default the app runs in this process (ASGI) on a temporary SQLite database loaded with the demo
bank, the pack's FAQ and demo rates (`--database URL` uses and keeps that database instead);
`--url` talks to a running server, whose database (`HELIXDESK_DATABASE_URL`) the command reads to
cast customers and judge the run. Prints the figures per persona and per scenario, the gate and
the time taken, and writes the JSON report. `--gate` exits 1 when the gate fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any, get_args

import httpx
import typer
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from helixdesk.actions.rates import RateService
from helixdesk.bank.connector import BankConnector
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.cli.context import bank_zone
from helixdesk.conversations.schemas import ChannelName
from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.packs.loader import load_pack
from helixdesk.privacy.crypto import generate_key
from helixdesk.simulation.demo import demo_database
from helixdesk.simulation.numbers import NumberCheck
from helixdesk.simulation.plan import Cast, Casting, Planned, plan
from helixdesk.simulation.record import Record
from helixdesk.simulation.report import build_report
from helixdesk.simulation.runner import Outcome, Simulator
from helixdesk.simulation.scenarios import Simulation, load_simulation

# The tables are wide: when the output is not a terminal (a file, CI's log), give them room.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)


class SimulationTargetError(AppError):
    code = "simulation_target_invalid"
    http_status = 422


@dataclass(frozen=True)
class RunOptions:
    seed: int = 7
    concurrency: int = 8
    url: str = ""  # a running server; empty: the app in this process
    api_key: str | None = None
    channel: str = "web"
    database: str = ""  # in-process: this database (kept); empty: a temporary one
    customers: int = 200  # demo customers loaded into an empty database


@dataclass
class Target:
    client: httpx.AsyncClient
    record: Record
    bank: BankConnector
    tz: tzinfo
    numbers: NumberCheck
    description: str


def simulate(
    conversations: Annotated[
        int, typer.Option(min=1, max=10_000, help="How many persona conversations.")
    ] = 100,
    seed: Annotated[
        int, typer.Option(help="The run's seed: the same seed gives the same conversations.")
    ] = 7,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Conversations in flight at once.")] = 8,
    persona: Annotated[list[str] | None, typer.Option(help="Only this persona (repeat for more).")] = None,
    scenario: Annotated[list[str] | None, typer.Option(help="Only this scenario (repeat for more).")] = None,
    scenarios: Annotated[Path | None, typer.Option(help="A scenarios file instead of the pack's.")] = None,
    url: Annotated[
        str, typer.Option(help="A running server's base URL instead of the app in this process.")
    ] = "",
    api_key: Annotated[
        str, typer.Option(envvar="HELIXDESK_SIMULATE_API_KEY", help="A channel API key to call with.")
    ] = "",
    channel: Annotated[str, typer.Option(help="The channel the conversations are opened on.")] = "web",
    database: Annotated[str, typer.Option(help="In-process: use (and keep) this database URL.")] = "",
    customers: Annotated[
        int, typer.Option(min=1, max=100_000, help="Demo customers to load into an empty database.")
    ] = 200,
    report: Annotated[Path | None, typer.Option(help="Where to write the JSON report.")] = None,
    gate: Annotated[bool, typer.Option("--gate", help="Exit 1 when the pack's release gate fails.")] = False,
    quiet: Annotated[bool, typer.Option(help="The figures only, not the conversations that failed.")] = False,
) -> None:
    """Simulated customers (elderly, busy, chatty, angry, code-switching, Cantonese, scam victim,
    VIP) pursue the pack's scenarios through the API; prints the report and the release gate."""
    check_channel(channel)
    settings = Settings()
    sim = load_simulation(load_pack(settings.pack), scenarios=scenarios)
    planned = plan(sim, conversations, seed, personas=persona or [], scenarios=scenario or [])
    options = RunOptions(
        seed=seed,
        concurrency=concurrency,
        url=url.rstrip("/"),
        api_key=api_key or None,
        channel=channel,
        database=database,
        customers=customers,
    )
    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("conversations", total=len(planned))
        outcomes, run = asyncio.run(
            run_simulation(settings, sim, planned, options, done=lambda _: bar.advance(task))
        )
    data = build_report(outcomes, sim.gate, run)
    path = report or Path("var") / "simulation" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    _print(data, outcomes, quiet=quiet)
    out.print(f"report: {path}")
    if gate and not data["gate"]["passed"]:
        raise typer.Exit(1)


async def run_simulation(
    settings: Settings,
    sim: Simulation,
    planned: list[Planned],
    options: RunOptions,
    *,
    done: Callable[[Outcome], None] | None = None,
) -> tuple[list[Outcome], dict[str, Any]]:
    """Hold the planned conversations against the target; their outcomes and the run's figures."""
    begun = time.perf_counter()
    async with _target(settings, options) as target:
        now = datetime.now(UTC)
        skip = await asyncio.to_thread(target.record.busy_customers) if options.url else set()
        refs = await asyncio.to_thread(target.record.customer_refs)
        casting = Casting(target.bank, refs, target.tz, now, seed=options.seed, skip=skip)
        cast: list[Cast] = await asyncio.to_thread(casting.cast, planned)
        simulator = Simulator(
            target.client,
            record=target.record,
            numbers=target.numbers,
            bank=target.bank,
            tz=target.tz,
            started=now,
            channel=options.channel,
            api_key=options.api_key,
            concurrency=options.concurrency,
        )
        started = time.perf_counter()
        outcomes = await simulator.run(list(zip(planned, cast, strict=True)), done)
        elapsed = time.perf_counter() - started
    run = {
        "target": target.description,
        "scenarios_file": sim.source,
        "seed": options.seed,
        "conversations": len(outcomes),
        "customer_messages": sum(len(o.turns) for o in outcomes),
        "concurrency": options.concurrency,
        "cores": os.cpu_count(),
        "setup_seconds": round(started - begun, 1),
        "elapsed_seconds": round(elapsed, 1),
        "conversations_per_minute": round(len(outcomes) / elapsed * 60, 1) if elapsed else None,
        "started_at": now.isoformat(),
    }
    return outcomes, run


@asynccontextmanager
async def _target(settings: Settings, options: RunOptions) -> AsyncIterator[Target]:
    headers = {"X-Api-Key": options.api_key} if options.api_key else {}
    if options.url:
        async with _remote(settings, options.url, headers) as target:
            yield target
        return
    with tempfile.TemporaryDirectory(prefix="helixdesk-simulate-") as folder:
        url = options.database or f"sqlite:///{Path(folder) / 'helixdesk.db'}"
        tz = bank_zone(settings)
        with err.status("preparing the database (demo bank, FAQ, rates)…"):
            engine, _ = await asyncio.to_thread(
                lambda: demo_database(
                    url, customers=options.customers, seed=options.seed, pack=settings.pack, tz=tz
                )
            )
            engine.dispose()
        from helixdesk.edge.app import create_app  # heavy: only the in-process run needs it

        # Every simulated customer writes from this one address: the per-address limit is off.
        update: dict[str, Any] = {"database_url": url, "rate_limit_ip_per_minute": 0, "demo_pages": True}
        if not options.database:  # a database thrown away after the run: keys of the run alone
            update.setdefault("secret_key", settings.secret_key or SecretStr(secrets.token_urlsafe(32)))
            update["encryption_keys"] = settings.encryption_keys or SecretStr(generate_key("simulate"))
        app_settings = settings.model_copy(update=update)
        app = create_app(app_settings)
        async with app.router.lifespan_context(app):
            container = app.state.container
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://simulate.local", headers=headers, timeout=60
            ) as client:
                yield Target(
                    client,
                    Record(container.sessions),
                    container.bank,
                    tz,
                    NumberCheck.build(container.pack.path, container.rates.all(), tz, datetime.now(UTC)),
                    "in-process, " + ("the database given" if options.database else "a temporary database"),
                )


@asynccontextmanager
async def _remote(settings: Settings, url: str, headers: dict[str, str]) -> AsyncIterator[Target]:
    engine = make_engine(settings.database_url)
    try:
        sessions = make_session_factory(engine)
        tz = bank_zone(settings)
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            try:
                health = await client.get("/healthz")
                outbox = await client.get("/demo/outbox", params={"limit": 1})
            except httpx.HTTPError as e:
                raise SimulationTargetError(f"cannot reach {url}: {e}") from e
            if health.status_code != 200:
                raise SimulationTargetError(f"{url}/healthz answered {health.status_code}")
            if outbox.status_code != 200:
                raise SimulationTargetError(
                    f"{url} does not serve the demo outbox (demo_pages is off): simulated customers "
                    "could not read their one-time codes"
                )
            rates = await asyncio.to_thread(RateService(sessions=sessions).all)
            pack = load_pack(settings.pack)
            yield Target(
                client,
                Record(sessions),
                DemoBankConnector(session_factory=sessions),
                tz,
                NumberCheck.build(pack.path, rates, tz, datetime.now(UTC)),
                url,
            )
    finally:
        engine.dispose()


# ---- printing ------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _table(title: str, groups: dict[str, dict[str, Any]], overall: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left")
    for name in (
        "",
        "n",
        "goal",
        "msgs",
        "handoffs ok/all",
        "wrong",
        "fallback",
        "missed",
        "invented",
        "gave up",
        "p50 ms",
        "p95 ms",
        "sat 1-5",
    ):
        table.add_column(name, justify="left" if not name else "right")
    for name, f in [*groups.items(), ("all", overall)]:
        table.add_row(
            name,
            str(f["conversations"]),
            f"{f['completion_rate']:.0%}",
            "-" if f["turns_to_goal"] is None else f"{f['turns_to_goal']:.1f}",
            f"{f['handoffs_correct']}/{f['handoffs']}",
            str(f["wrong_handoffs"]),
            str(f["fallback_handoffs"]),
            str(f["missed_handoffs"]),
            str(f["invented_numbers"]),
            str(f["gave_up"]),
            _ms(f["response_p50_ms"]),
            _ms(f["response_p95_ms"]),
            "-" if f["satisfaction"] is None else f"{f['satisfaction']:.2f}",
        )
    return table


def _print(data: dict[str, Any], outcomes: list[Outcome], *, quiet: bool) -> None:
    overall = data["overall"]
    out.print(_table("By persona", data["by_persona"], overall))
    out.print(_table("By scenario", data["by_scenario"], overall))
    if not quiet:
        failing = [o for o in outcomes if not o.completed or o.invented or o.verdict == "wrong"]
        for o in failing[:30]:
            why = "; ".join(o.unmet) or "-"
            handoff = (
                f", handed to {o.handoff.get('queue')} ({o.handoff.get('trigger')}, {o.verdict})"
                if o.handoff
                else ""
            )
            out.print(
                f"[dim]#{o.number}[/] {o.scenario} · {o.persona} · {o.language}: {escape(why)}{escape(handoff)}"
                + (f", invented {[i['number'] for i in o.invented]}" if o.invented else "")
                + (", gave up" if o.gave_up else ""),
                highlight=False,
            )
            for t in o.turns[-2:]:
                out.print(f"    [cyan]customer>[/] {escape(t.said)}", highlight=False)
                for r in t.replies:
                    out.print(f"    [green]bot>[/] {escape(r['text'][:200])}", highlight=False)
        if len(failing) > 30:
            out.print(f"… and {len(failing) - 30} more in the JSON report")
    run = data["run"]
    out.print(
        f"{run['conversations']} conversations ({run['customer_messages']} customer messages) in "
        f"{run['elapsed_seconds']:.1f} s on {run['cores']} cores, concurrency {run['concurrency']} "
        f"(after {run['setup_seconds']:.0f} s setting up): "
        f"{run['conversations_per_minute']} conversations a minute ({run['target']})"
    )
    status = "[bold green]PASSED[/]" if data["gate"]["passed"] else "[bold red]FAILED[/]"
    parts = []
    for c in data["gate"]["checks"]:
        sign = "≥" if c["name"] == "completion_rate" else "≤"
        mark = "" if c["passed"] else " ✗"
        parts.append(f"{c['name']} {c['value']:g} {sign} {c['threshold']:g}{mark}")
    out.print(f"gate {status}: " + ", ".join(parts))


def check_channel(channel: str) -> None:
    channels = get_args(ChannelName)
    if channel not in channels:
        raise ValidationFailedError(f"--channel must be one of {', '.join(channels)}", code="invalid_option")
