"""`helixdesk lifecycle`: train the churn-risk model and show a customer's lifecycle (docs/lifecycle.md).

helixdesk lifecycle train                          # on the bank's monthly activity
helixdesk lifecycle train --customers 5000 --seed 7  # on a freshly generated demo population
helixdesk lifecycle show C000001
helixdesk lifecycle effect retention_fee_waiver --since 2026-11-01 [--json]
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.settings import Settings

app = typer.Typer(help="Customer lifecycle: stages and the churn-risk model.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _today(settings: Settings) -> date:
    from helixdesk.cli.context import bank_zone

    return datetime.now(bank_zone(settings)).date()


@app.command("train")
def train(
    customers: Annotated[
        int | None,
        typer.Option(
            min=50,
            max=200_000,
            help="Train on a freshly generated demo population of N customers instead of the bank's table.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated population (with --customers).")] = 7,
    as_of: Annotated[
        str, typer.Option(help="Date the generated population is seen at (YYYY-MM-DD; default today).")
    ] = "",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Model folder root (default $HELIXDESK_MODEL_DIR/PACK/churn)."),
    ] = None,
    if_stale: Annotated[
        bool,
        typer.Option(
            help="Do nothing when the newest model was trained on exactly this data and configuration."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train, calibrate and measure the churn-risk model; write a new model version and its report."""
    from helixdesk.lifecycle.artefacts import default_root, newest_report, save_churn_model
    from helixdesk.lifecycle.config import load_lifecycle_config
    from helixdesk.lifecycle.data import data_sha256
    from helixdesk.lifecycle.training import train_churn_model
    from helixdesk.packs.loader import load_pack

    settings = Settings()
    config = load_lifecycle_config(load_pack(settings.pack))
    histories, source = _histories(settings, customers, seed, as_of)
    digest = data_sha256(histories)
    config_dump = config.model_dump(mode="json", exclude={"profile"})  # the profile is not learnt
    root = out_dir if out_dir is not None else default_root(settings.model_dir, settings.pack)
    if if_stale:
        current = newest_report(root)
        if current and current.get("data_sha256") == digest and current.get("config") == config_dump:
            out.print(f"the churn model in {root} is up to date with the data; not retrained")
            return
    with err.status("training the churn-risk model…"):
        result = train_churn_model(histories, config)
    folder, report = save_churn_model(
        result.model,
        root,
        report={"data_sha256": digest, "data": source, "config": config_dump, **result.report},
    )
    if as_json:
        typer.echo(json.dumps({"folder": str(folder), **report}, ensure_ascii=False, indent=2))
        return
    _print_report(folder, report)


def _histories(
    settings: Settings, customers: int | None, seed: int, as_of: str
) -> tuple[list[Any], dict[str, Any]]:
    from helixdesk.lifecycle.data import bank_histories, simulated_histories

    if customers is not None:
        from helixdesk.bank.history import demo_population

        try:
            day = date.fromisoformat(as_of) if as_of else _today(settings)
        except ValueError as e:
            raise ValidationFailedError(
                f"--as-of must be a date like 2026-11-23, not {as_of!r}", code="bad_date"
            ) from e
        with err.status(f"generating {customers} customers…"):
            population = demo_population(customers, seed=seed, as_of=day)
        return simulated_histories(population), {
            "source": "generated",
            "seed": seed,
            "as_of": day.isoformat(),
        }
    if as_of:
        raise ValidationFailedError("--as-of goes with --customers", code="invalid_option")
    from helixdesk.db.session import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        histories = bank_histories(make_session_factory(engine), today=_today(settings))
    finally:
        engine.dispose()
    if not any(h.months for h in histories):
        raise ValidationFailedError(
            "the bank has no monthly activity to learn from: seed the demo bank (helixdesk bank seed), "
            "import a bank file with monthly_activity, or train on a generated population (--customers N)",
            code="churn_no_history",
        )
    return histories, {"source": "bank", "seed": None, "as_of": None}


def _print_report(folder: Path, report: dict[str, Any]) -> None:
    m = report["metrics"]
    data = report["data"]
    where = (
        f"generated, seed {data['seed']}, as of {data['as_of']}" if data["source"] == "generated" else "bank"
    )
    out.print(
        f"[green]trained[/] churn model on {report['customers']} customers ({where}) -> {folder}\n"
        f"held-out: {report['customers_heldout']} customers, {report['examples']['heldout']} cut-offs, "
        f"churn rate {report['churn_rate']['heldout']:.3f}; AUC {m['auc']:.3f}, Brier {m['brier']:.4f} "
        f"(base rate {m['brier_base_rate']:.4f}); trained in {report['train_seconds']:.2f}s",
        highlight=False,
    )
    table = Table(title="calibration on held-out customers")
    for column in ("predicted", "n", "mean predicted", "observed"):
        table.add_column(column, justify="right")
    for row in report["calibration"]:
        table.add_row(
            row["bin"],
            str(row["n"]),
            "" if row["predicted"] is None else f"{row['predicted']:.3f}",
            "" if row["observed"] is None else f"{row['observed']:.3f}",
        )
    out.print(table)


@app.command("show")
def show(
    customer_ref: Annotated[str, typer.Argument(help="The customer's bank number, e.g. C000001.")],
    model: Annotated[
        Path | None,
        typer.Option(help="A churn model folder or root (default $HELIXDESK_MODEL_DIR/PACK/churn, newest)."),
    ] = None,
) -> None:
    """The customer's lifecycle stage with its rule, their churn risk and its top reasons, as JSON."""
    from helixdesk.bank.demo import DemoBankConnector
    from helixdesk.db.session import make_engine, make_session_factory
    from helixdesk.lifecycle.artefacts import default_root, load_churn_model
    from helixdesk.lifecycle.config import load_lifecycle_config
    from helixdesk.lifecycle.customer import from_bank
    from helixdesk.lifecycle.service import describe
    from helixdesk.packs.loader import load_pack

    settings = Settings()
    config = load_lifecycle_config(load_pack(settings.pack))
    churn_model, report = load_churn_model(
        model if model is not None else default_root(settings.model_dir, settings.pack)
    )
    engine = make_engine(settings.database_url)
    try:
        bank = DemoBankConnector(session_factory=make_session_factory(engine))
        history = from_bank(bank, customer_ref, today=_today(settings))
    finally:
        engine.dispose()
    view = describe(history, config, churn_model, model_version=str(report.get("version")))
    typer.echo(json.dumps(view, ensure_ascii=False, indent=2))


@app.command("effect")
def effect(
    strategy: Annotated[str, typer.Argument(help="The strategy's id, e.g. retention_fee_waiver.")],
    since: Annotated[str, typer.Option(help="First day of the touches, YYYY-MM-DD (bank's time).")] = "",
    until: Annotated[str, typer.Option(help="Last day of the touches, YYYY-MM-DD, inclusive.")] = "",
    version: Annotated[int | None, typer.Option(min=1, help="Only the touches of this version.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The strategy's touched customers against its holdout group: satisfaction, retention and
    product growth, with 95% intervals and a verdict each."""
    from helixdesk.analytics.strategy_effect import Window, strategy_effect
    from helixdesk.cli.context import bank_zone
    from helixdesk.db.session import make_engine, make_session_factory, reading
    from helixdesk.lifecycle.config import load_lifecycle_config
    from helixdesk.lifecycle.store import StrategyStore
    from helixdesk.lifecycle.strategies import load_strategies
    from helixdesk.packs.loader import load_pack

    settings = Settings()
    window = Window.parse(since or None, until or None)
    pack = load_pack(settings.pack)
    engine = make_engine(settings.database_url)
    try:
        sessions = make_session_factory(engine)
        StrategyStore(sessions=sessions, pack_set=load_strategies(pack)).seed()
        with reading(sessions) as s:
            result = strategy_effect(
                s,
                strategy,
                window=window,
                tz=bank_zone(settings),
                churn=load_lifecycle_config(pack).churn,
                version=version,
            )
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    period = f"{result['period']['since'] or '…'} .. {result['period']['until'] or '…'}"
    table = Table(title=f"{result['strategy']} ({result['kind']}), touches {period}")
    for column in ("outcome", "touched", "holdout", "touched mean", "holdout mean", "difference",
                   "95% interval", "verdict"):  # fmt: skip
        table.add_column(column)
    for o in result["outcomes"]:
        interval = f"{o['ci_low']} .. {o['ci_high']}" if o["difference"] is not None else "-"
        table.add_row(
            o["key"],
            str(o["touched"]),
            str(o["holdout"]),
            str(o["touched_mean"]),
            str(o["holdout_mean"]),
            str(o["difference"]),
            interval,
            f"{o['verdict'].replace('_', ' ')} ({o['better']} is better)",
        )
    out.print(table)
    t = result["touches"]
    out.print(
        f"touches: {t['given']} given, {t['held_out']} held out, {t['skipped']} skipped; customers: "
        f"{result['customers']['touched']} touched, {result['customers']['holdout']} in the holdout group "
        f"(holdout share now {result['holdout_share']})",
        highlight=False,
    )
    if result["retention_observed_through"]:
        out.print(f"retention and products observed through {result['retention_observed_through']}")
