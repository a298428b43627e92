"""`helixdesk llm`: the optional LLM backend (docs/llm.md).

    helixdesk llm check             # one data-free question to the configured server; latency, tokens
    helixdesk llm usage [--days 7]  # the metered calls per use: tokens, cost, latency, why the template was kept
    helixdesk llm usage --json

Errors exit with code 2 and print `error[code]: message` on stderr.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError, ConfigurationError
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.llm.assistant import build_assistant
from helixdesk.llm.guard import Ask
from helixdesk.llm.meter import usage

app = typer.Typer(help="The optional LLM backend: check the server, read the metering.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

_CHECK = Ask(
    use="check",
    system="You are a connectivity check. Answer with the single word OK.",
    user="Are you there?",
    sources=(),
    compliance=False,
    max_chars=200,
)


def _fail(e: AppError) -> NoReturn:
    err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
    raise typer.Exit(2)


@app.command("check")
def check() -> None:
    """Ask the configured server one question with no data in it, through the guardrails, and say
    what came back: the model, the latency and the tokens (the call is metered as use `check`)."""
    settings = Settings()
    if not settings.llm_enabled:
        _fail(ConfigurationError("the LLM is off: set HELIXDESK_LLM_ENABLED=true", code="llm_off"))
    engine = make_engine(settings.database_url)
    try:
        assistant = build_assistant(settings, sessions=make_session_factory(engine), compliance=None)
        assert assistant is not None
        answer = assistant.guard.ask(_CHECK)
    finally:
        engine.dispose()
    where = f"{settings.llm_base_url}/v1/chat/completions ({settings.llm_model})"
    if not answer.used:
        _fail(AppError(f"{where}: no usable answer ({answer.reason})", code=f"llm_{answer.reason}"))
    call = answer.call
    assert call is not None
    out.print(f"{where}: answered {answer.text!r}", highlight=False)
    out.print(
        f"model {call.model}; latency {call.seconds * 1000:.0f} ms; tokens {call.prompt_tokens} in, "
        f"{call.completion_tokens} out{' (estimated)' if call.tokens_estimated else ''}; "
        f"cost {call.cost:.6f} {settings.cost_currency}",
        highlight=False,
    )


@app.command("usage")
def usage_command(
    days: Annotated[int, typer.Option(min=1, max=3650, help="The last N days.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The metered LLM calls of the last N days per use: calls, answers used, why the template was
    kept, tokens (and how many calls were estimated), cost in cost_currency, latency."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with reading(make_session_factory(engine)) as s:
            totals = usage(s, since=utcnow() - timedelta(days=days))
    finally:
        engine.dispose()
    if as_json:
        rows = [
            {
                "use": t.use,
                "calls": t.calls,
                "used": t.used,
                "fallbacks": t.fallbacks,
                "prompt_tokens": t.prompt_tokens,
                "completion_tokens": t.completion_tokens,
                "estimated_calls": t.estimated_calls,
                "cost": t.cost,
                "currency": settings.cost_currency,
                "mean_ms": round(t.mean_ms, 1),
                "p95_ms": t.p95_ms,
            }
            for t in totals
        ]
        out.print_json(json.dumps({"days": days, "uses": rows}, ensure_ascii=False))
        return
    table = Table(title=f"LLM calls, last {days} days (cost in {settings.cost_currency})")
    for column in (
        "use",
        "calls",
        "used",
        "template kept",
        "tokens in",
        "tokens out",
        "cost",
        "mean ms",
        "p95 ms",
    ):
        table.add_column(column, justify="left" if column in ("use", "template kept") else "right")
    for t in totals:
        kept = ", ".join(f"{reason} {n}" for reason, n in sorted(t.fallbacks.items())) or "-"
        table.add_row(
            t.use,
            str(t.calls),
            str(t.used),
            kept,
            f"{t.prompt_tokens}{'*' if t.estimated_calls else ''}",
            str(t.completion_tokens),
            f"{t.cost:.4f}",
            f"{t.mean_ms:.0f}",
            f"{t.p95_ms:.0f}",
        )
    out.print(table)
    if any(t.estimated_calls for t in totals):
        out.print("* some token counts are estimated (the server sent no usage)")
