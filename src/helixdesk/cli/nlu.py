"""`helixdesk nlu`: train and evaluate the intent model, and parse messages with the pack's pipeline.

    helixdesk nlu train --data pack --out var/models/retail_bank/intent/v1
    helixdesk nlu eval --model var/models/retail_bank/intent/v1 --data heldout.jsonl [--json]
    helixdesk nlu parse "我的卡丢了"
    cat messages.jsonl | helixdesk nlu parse --jsonl

Errors exit with code 2 and print `error[code]: message` on stderr.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.core.settings import Settings
from helixdesk.packs.loader import load_pack

if TYPE_CHECKING:  # the models import scikit-learn: each command imports what it needs
    from helixdesk.nlu.intent.evaluation import EvalReport
    from helixdesk.nlu.pipeline import NLUPipeline

app = typer.Typer(help="NLU: train and evaluate the intent model; parse messages.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

BATCH = 64  # messages per batch in `parse --jsonl`


def _fail(e: AppError) -> NoReturn:
    err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
    raise typer.Exit(2)


@app.command("train")
def train(
    data: Annotated[
        str,
        typer.Option(help="'pack' (the default pack), a pack name, or a CSV/JSON/JSONL/YAML file or folder."),
    ] = "pack",
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="For a pack: the folder that gets intent/VERSION and emotion/VERSION "
            "(default $HELIXDESK_MODEL_DIR/PACK). For a data file: the intent model directory.",
        ),
    ] = None,
    val: Annotated[
        Path | None,
        typer.Option(help="Validation data for calibration and the threshold (default: a held-out split)."),
    ] = None,
    c: Annotated[
        float | None, typer.Option("--c", help="Regularisation strength C of the linear model.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the held-out split.")] = 0,
    emotion: Annotated[bool, typer.Option(help="Also train the pack's emotion model (packs only).")] = True,
    quality: Annotated[
        bool, typer.Option(help="Also train the pack's quality classifier (packs only; helixdesk.quality).")
    ] = True,
    if_stale: Annotated[
        bool,
        typer.Option(help="Skip a model whose newest version was trained on exactly the current data."),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Train the intent model (and, for a pack, the emotion model and the quality classifier) into
    versioned model folders."""
    from helixdesk.nlu.intent.artefacts import default_version_dir
    from helixdesk.nlu.intent.data import data_sha256, load_examples

    pack = _pack_name(data)
    is_pack = pack != "custom"
    try:
        examples = load_examples(data)
        validation = load_examples(val) if val is not None else None
        digest = data_sha256([*examples, *(validation or [])])
        root = out_dir if (out_dir is not None and is_pack) else Settings().model_dir / pack
        intent_root = root / "intent"
        if if_stale and _current(intent_root, "data_sha256", digest):
            out.print(f"intent model in {intent_root} is up to date with the data; not retrained")
        else:
            _train_intent(
                examples,
                validation,
                c,
                seed,
                quiet,
                digest,
                data,
                out_dir if (out_dir is not None and not is_pack) else default_version_dir(intent_root),
            )
        if is_pack and emotion:
            _train_emotion(pack, root / "emotion", if_stale=if_stale, quiet=quiet)
        if is_pack and quality:
            _train_quality(pack, root / "quality", if_stale=if_stale)
    except AppError as e:
        _fail(e)
    except ValueError as e:
        _fail(ValidationFailedError(str(e), code="nlu_data_invalid"))


def _train_intent(
    examples: list[Any],
    validation: list[Any] | None,
    c: float | None,
    seed: int,
    quiet: bool,
    digest: str,
    data: str,
    target: Path,
) -> None:
    from helixdesk.nlu.intent.artefacts import save_model
    from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig

    config = IntentConfig(seed=seed)
    if c is not None:
        config = replace(config, fast=replace(config.fast, c=c))
    started = time.perf_counter()
    with TrainingProgress(quiet) as report:
        model = IntentClassifier.train(examples, config, validation=validation, progress=report)
    seconds = time.perf_counter() - started
    manifest = save_model(
        model,
        target,
        data_sha256=digest,
        extra={"data": str(data), "train_seconds": round(seconds, 1), "examples": len(examples)},
    )
    held = manifest["metrics"]["heldout"] or {}
    out.print(
        f"[green]trained[/] {len(model.labels)} intents on {len(examples)} examples in {seconds:.1f}s "
        f"-> {target}  (version {manifest['version']}, threshold {model.threshold:.3f}, "
        f"held-out accuracy {held.get('accuracy', float('nan')):.3f}, macro-F1 {held.get('macro_f1', float('nan')):.3f})",
        highlight=False,
    )
    from helixdesk.nlu.artefacts import live_version

    served = live_version(target.parent)
    if served is not None and served != target.name:
        out.print(
            f"[yellow]note:[/] {target.parent}/LIVE names {served}, which stays the model served: the model "
            f"registry governs this folder. Register this one with `helixdesk model register {target}`, "
            "then shadow and promote it (docs/learning.md).",
            highlight=False,
        )


def _train_emotion(pack: str, root: Path, *, if_stale: bool, quiet: bool) -> None:
    from helixdesk.nlu.artefacts import file_sha256
    from helixdesk.nlu.emotion import train_emotion_model
    from helixdesk.nlu.emotion.data import PACK_EMOTIONS
    from helixdesk.nlu.emotion.data import pack_dir as emotion_pack_dir
    from helixdesk.nlu.emotion.model import EmotionConfig
    from helixdesk.nlu.intent.artefacts import default_version_dir

    pack_yaml = emotion_pack_dir(pack) / PACK_EMOTIONS
    config = json.loads(json.dumps(EmotionConfig().to_dict()))  # as the manifest stores it
    if (
        if_stale
        and pack_yaml.is_file()
        and _current(root, ("data", "pack", "sha256"), file_sha256(pack_yaml))
        and _current(root, "config", config)
    ):
        out.print(f"emotion model in {root} is up to date with the data and settings; not retrained")
        return
    started = time.perf_counter()
    with TrainingProgress(quiet) as report:
        result = train_emotion_model(default_version_dir(root), pack=pack, progress=report)
    seconds = time.perf_counter() - started
    metrics = result.manifest.get("metrics", {}).get("heldout") or {}
    out.print(
        f"[green]trained[/] emotion model in {seconds:.1f}s -> {result.out_dir}  "
        f"(held-out macro-F1 {metrics.get('macro_f1', float('nan')):.3f})",
        highlight=False,
    )


def _train_quality(pack_name: str, root: Path, *, if_stale: bool) -> None:
    from helixdesk.nlu.intent.artefacts import default_version_dir
    from helixdesk.packs.loader import load_pack
    from helixdesk.quality.model import current_data_sha, data_sha256, train_quality_model, training_examples

    pack = load_pack(pack_name)
    if not (pack.path / "quality" / "train").is_dir():
        out.print(f"pack {pack_name} has no quality training data; quality checks use its patterns only")
        return
    if if_stale and current_data_sha(root) == data_sha256(training_examples(pack)):
        out.print(f"quality model in {root} is up to date with the data; not retrained")
        return
    manifest = train_quality_model(pack, default_version_dir(root))
    summary = ", ".join(
        f"{rule} P{m['cv_precision']:.2f}/R{m['cv_recall']:.2f}" for rule, m in manifest["metrics"].items()
    )
    out.print(
        f"[green]trained[/] quality model in {manifest['train_seconds']:.1f}s -> {root}  (cross-validated {summary})",
        highlight=False,
    )


def _current(root: Path, key: str | tuple[str, ...], digest: object) -> bool:
    """True when the newest model version under `root` has this value (a data digest, the
    settings) at `key` of its manifest."""
    from helixdesk.nlu.intent.artefacts import MANIFEST_FILE, resolve_model_dir

    try:
        manifest = json.loads((resolve_model_dir(root) / MANIFEST_FILE).read_text("utf-8"))
    except (AppError, OSError, ValueError):
        return False
    value: Any = manifest
    for part in (key,) if isinstance(key, str) else key:
        value = value.get(part) if isinstance(value, dict) else None
    return bool(value == digest)


def _pack_name(data: str) -> str:
    if data == "pack":
        return Settings().pack
    return data if "/" not in data and not Path(data).exists() else "custom"


class TrainingProgress:
    """Rich progress bars fed by the trainer's `progress(step, done, total)` callback."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=False,
            disable=quiet,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Callable[[str, int, int], None]:
        self.bar.__enter__()
        return self.report

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def report(self, step: str, done: int, total: int) -> None:
        key = "train" if step in ("fit", "calibrate", "refit", "done") else step
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(step, total=total)
        self.bar.update(self.tasks[key], completed=done, total=total, description=step)


@app.command("eval")
def eval_(
    model_dir: Annotated[Path, typer.Option("--model", help="Model directory (or a folder of versions).")],
    data: Annotated[str, typer.Option(help="Labelled CSV/JSON/JSONL/YAML file or folder, or 'pack'.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    threshold: Annotated[
        float | None, typer.Option(help="Override the model's out-of-scope threshold.")
    ] = None,
    top_confused: Annotated[int, typer.Option(help="How many confused pairs to list.")] = 10,
) -> None:
    """Accuracy, macro-F1, per-label P/R/F1, top confusions and out-of-scope recall on labelled data."""
    from helixdesk.nlu.intent.artefacts import load_model
    from helixdesk.nlu.intent.data import load_examples
    from helixdesk.nlu.intent.evaluation import evaluate

    try:
        model, manifest = load_model(model_dir)
        examples = load_examples(data)
    except AppError as e:
        _fail(e)
    started = time.perf_counter()
    predicted = model.predict_labels([e.text for e in examples], threshold=threshold)
    seconds = time.perf_counter() - started
    report = evaluate([e.label for e in examples], predicted, top_confused=top_confused)
    if as_json:
        payload = report.to_dict()
        payload["model_version"] = manifest.get("version")
        payload["threshold"] = model.threshold if threshold is None else threshold
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    _print_report(report, manifest, model.threshold if threshold is None else threshold, seconds)


def _print_report(report: EvalReport, manifest: dict[str, Any], threshold: float, seconds: float) -> None:
    head = Table(title=f"intent model {manifest.get('version')} (threshold {threshold:.3f})")
    head.add_column("metric")
    head.add_column("value", justify="right")
    head.add_row("examples", str(report.n))
    head.add_row("accuracy", f"{report.accuracy:.4f}")
    head.add_row("macro-F1", f"{report.macro_f1:.4f}")
    if report.oos_recall is not None:
        head.add_row("in-scope accuracy", f"{report.in_scope_accuracy or 0:.4f}")
        head.add_row(f"out-of-scope recall ({report.oos_support})", f"{report.oos_recall:.4f}")
    head.add_row("messages/s", f"{report.n / max(seconds, 1e-9):.0f}")
    out.print(head)
    labels = Table(title="per label")
    for col in ("label", "precision", "recall", "F1", "support"):
        labels.add_column(col, justify="left" if col == "label" else "right")
    for s in sorted(report.per_label, key=lambda s: s.f1):
        labels.add_row(s.label, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support))
    out.print(labels)
    if report.confused:
        confused = Table(title="most confused (true -> predicted)")
        confused.add_column("true")
        confused.add_column("predicted")
        confused.add_column("count", justify="right")
        for t, p, n in report.confused:
            confused.add_row(t, p, str(n))
        out.print(confused)


@app.command("parse")
def parse(
    text: Annotated[str | None, typer.Argument(help="The message to parse.")] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help='Read {"text": ...} lines on stdin; write one result per line.')
    ] = False,
    pack: Annotated[
        str | None, typer.Option(help="Domain pack whose pipeline to run (default: settings).")
    ] = None,
    model_dir: Annotated[
        Path | None, typer.Option("--model", help="Intent model directory (overrides the pack's).")
    ] = None,
) -> None:
    """Run the pack's NLU pipeline and print Turn.to_dict() as JSON."""
    if (text is None) == (not jsonl):
        _fail(ValidationFailedError('give either TEXT or --jsonl (with {"text": ...} lines on stdin)'))
    try:
        pipeline = build_pipeline(pack or Settings().pack, model_dir)
        pipeline.warm_up()
        if text is not None:
            sys.stdout.write(json.dumps(pipeline.parse(text).to_dict(), ensure_ascii=False) + "\n")
            return
        for chunk in _chunks(sys.stdin, BATCH):
            for result in parse_lines(pipeline, chunk):
                sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    except AppError as e:
        _fail(e)


def build_pipeline(pack_name: str, model_dir: Path | None = None) -> NLUPipeline:
    """The pack's pipeline; the intent stage must find its model (and uses `model_dir` when given)."""
    from helixdesk.nlu.pipeline import NLUPipeline

    config: list[dict[str, Any] | str] = []
    has_intent = False
    for item in load_pack(pack_name).nlu_pipeline:
        options: dict[str, Any] = {"name": item} if isinstance(item, str) else dict(item)
        if options.get("name") == "intent":
            has_intent = True
            options["if_missing"] = "error"
            if model_dir is not None:
                options["model_dir"] = str(model_dir)
        config.append(options)
    if not has_intent and model_dir is not None:
        config.append({"name": "intent", "model_dir": str(model_dir)})
    return NLUPipeline.from_config(config, defaults={"model_root": Settings().model_dir})


def _chunks(lines: Iterator[str] | Any, size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def parse_lines(pipeline: NLUPipeline, lines: Sequence[str]) -> list[dict[str, Any]]:
    """Parse JSONL lines in order; a bad line yields an error object in its place."""
    results: list[dict[str, Any] | None] = [None] * len(lines)
    texts: list[str] = []
    where: list[int] = []
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            results[i] = _line_error(f"invalid JSON: {e}")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            results[i] = _line_error('expected an object with a "text" string')
            continue
        texts.append(obj["text"])
        where.append(i)
    for i, turn in zip(where, pipeline.parse_batch(texts), strict=True):
        results[i] = turn.to_dict()
    return [r if r is not None else _line_error("empty line") for r in results]


def _line_error(message: str) -> dict[str, Any]:
    return {"error": {"code": "bad_input", "message": message}}


__all__ = ["TrainingProgress", "app", "build_pipeline", "parse_lines"]
