"""Intent classifier benchmark: accuracy on public sets, the pack's held-out scores, speed.

    .venv/bin/python bench/nlu/intent_bench.py [--runs 3] [--skip banking77,clinc150] [--cascade]

Prints one table. Accuracy figures are deterministic (fixed seed), so they are measured once;
timings (pack training, parse latency, batch throughput) are medians over `--runs`.

- Banking77: train on train.csv (15% held out for calibration, then refit on all), accuracy on test.csv.
- CLINC150 (data_full.json): train on train + oos_train, calibrate and tune the out-of-scope threshold
  on val + oos_val, report in-scope accuracy (a rejected in-scope message counts as wrong) and
  out-of-scope recall on test + oos_test (the "oos-train + threshold" scheme of Larson et al. 2019).
- Pack: train on the default pack, score src/helixdesk/packs/retail_bank/nlu/heldout/intents.jsonl.
- Latency: the pack's whole NLU pipeline, one message at a time, one thread, embedding cache cleared.
- Throughput: the same pipeline over a batch (stages with `run_batch` see the whole batch).

Each dataset is skipped with a message when its files are absent.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from helixdesk.cli.nlu import build_pipeline  # noqa: E402
from helixdesk.nlu.embeddings import e5_embedder, use_embedder  # noqa: E402
from helixdesk.nlu.intent.artefacts import save_model  # noqa: E402
from helixdesk.nlu.intent.data import Example, data_sha256, load_examples, pack_dir  # noqa: E402
from helixdesk.nlu.intent.evaluation import evaluate  # noqa: E402
from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig, MemberConfig  # noqa: E402
from helixdesk.nlu.pipeline import NLUPipeline  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("HELIXDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
HELDOUT = pack_dir() / "nlu" / "heldout" / "intents.jsonl"
console = Console()
rows: list[tuple[str, str, str]] = []


def note(message: str) -> None:
    console.print(f"[yellow]skip[/]: {message}")


def config_for(args: argparse.Namespace) -> IntentConfig:
    config = IntentConfig()
    if args.cascade:
        slow = replace(
            MemberConfig(), features=replace(MemberConfig().features, embedding_weight=0, e5_weight=2.0)
        )
        config = replace(config, slow=slow, cascade_below=args.cascade)
    return config


def bench_banking77(args: argparse.Namespace) -> None:
    folder = DATA / "banking77"
    if not (folder / "train.csv").is_file():
        note(f"Banking77 not found at {folder}")
        return
    train, test = load_examples(folder / "train.csv"), load_examples(folder / "test.csv")
    started = time.perf_counter()
    model = IntentClassifier.train(train, config_for(args))
    seconds = time.perf_counter() - started
    report = evaluate([e.label for e in test], model.predict_labels([e.text for e in test], threshold=0.0))
    rows.append(("Banking77 accuracy (test 3,080)", f"{report.accuracy * 100:.2f}", "≥ 93.7"))
    rows.append(("Banking77 macro-F1", f"{report.macro_f1 * 100:.2f}", ""))
    rows.append(("Banking77 training time (10,003 examples)", f"{seconds:.1f} s", ""))


def bench_clinc(args: argparse.Namespace) -> None:
    path = DATA / "clinc150" / "data_full.json"
    if not path.is_file():
        note(f"CLINC150 not found at {path}")
        return
    data = json.loads(path.read_text("utf-8"))

    def examples(*keys: str) -> list[Example]:
        return [Example(t, "out_of_scope" if label == "oos" else label) for k in keys for t, label in data[k]]

    started = time.perf_counter()
    model = IntentClassifier.train(
        examples("train", "oos_train"), config_for(args), validation=examples("val", "oos_val")
    )
    seconds = time.perf_counter() - started
    test = examples("test", "oos_test")
    report = evaluate([e.label for e in test], model.predict_labels([e.text for e in test]))
    rows.append(
        ("CLINC150 in-scope accuracy (test 4,500)", f"{(report.in_scope_accuracy or 0) * 100:.2f}", "≥ 95.0")
    )
    rows.append(
        ("CLINC150 out-of-scope recall (oos_test 1,000)", f"{(report.oos_recall or 0) * 100:.2f}", "≥ 60")
    )
    rows.append(("CLINC150 threshold (tuned on val)", f"{model.threshold:.3f}", ""))
    rows.append(("CLINC150 training time (15,100 examples)", f"{seconds:.1f} s", ""))


def bench_pack(args: argparse.Namespace, model_dir: Path) -> None:
    examples = load_examples("pack")
    times = []
    model = None
    for _ in range(args.runs):
        use_embedder().clear_cache()
        started = time.perf_counter()
        model = IntentClassifier.train(examples, config_for(args))
        times.append(time.perf_counter() - started)
    assert model is not None
    save_model(model, model_dir, data_sha256=data_sha256(examples))
    rows.append(
        (
            f"pack training time ({len(examples)} examples, {len(model.labels)} intents)",
            f"{statistics.median(times):.1f} s",
            "≤ 120 s",
        )
    )
    if not HELDOUT.is_file():
        note(f"pack held-out file not found at {HELDOUT}")
        return
    heldout = load_examples(HELDOUT)
    train_texts = {e.text for e in examples}
    overlap = sum(e.text in train_texts for e in heldout)
    report = evaluate([e.label for e in heldout], model.predict_labels([e.text for e in heldout]))
    rows.append(
        (
            f"pack held-out accuracy ({report.n}; {overlap} also in training)",
            f"{report.accuracy * 100:.2f}",
            "",
        )
    )
    rows.append(("pack held-out macro-F1", f"{report.macro_f1 * 100:.2f}", ""))
    if report.oos_recall is not None:
        rows.append(("pack held-out in-scope accuracy", f"{(report.in_scope_accuracy or 0) * 100:.2f}", ""))
        rows.append(
            (f"pack held-out OOS recall ({report.oos_support})", f"{report.oos_recall * 100:.2f}", "")
        )


def speed_texts() -> list[str]:
    texts: list[str] = []
    if HELDOUT.is_file():
        texts += [e.text for e in load_examples(HELDOUT)]
    test = DATA / "banking77" / "test.csv"
    if test.is_file():
        texts += [e.text for e in load_examples(test)]
    if not texts:
        texts = [e.text for e in load_examples("pack")]
    return list(dict.fromkeys(texts))  # unique, so the embedding cache never answers


def bench_speed(args: argparse.Namespace, model_dir: Path) -> None:
    pipeline = build_pipeline("retail_bank", model_dir)
    if args.stages:  # e.g. normalise,language,entities,risk,intent: stages the pack does not list yet
        names = [n.strip() for n in args.stages.split(",") if n.strip()]
        config: list[dict[str, object] | str] = [
            {"name": "intent", "model_dir": str(model_dir)} if n == "intent" else n for n in names
        ]
        pipeline = NLUPipeline.from_config(config)
    pipeline.warm_up()
    names = ", ".join(s.name for s in pipeline.stages)
    texts = speed_texts()
    single = texts[: args.single]
    p50s, p99s, rates = [], [], []
    for _ in range(args.runs):
        use_embedder().clear_cache()
        e5_embedder().clear_cache()
        latencies = []
        for text in single:
            started = time.perf_counter()
            pipeline.parse(text)
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        p50s.append(latencies[len(latencies) // 2])
        p99s.append(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))])
        use_embedder().clear_cache()
        e5_embedder().clear_cache()
        started = time.perf_counter()
        for start in range(0, len(texts), 256):
            pipeline.parse_batch(texts[start : start + 256])
        rates.append(len(texts) / (time.perf_counter() - started))
    rows.append(
        (
            f"parse latency p50, 1 thread ({len(single)} msgs; {names})",
            f"{statistics.median(p50s):.2f} ms",
            "≤ 5 ms",
        )
    )
    rows.append(("parse latency p99, 1 thread", f"{statistics.median(p99s):.2f} ms", "≤ 20 ms"))
    rows.append(
        (
            f"batch throughput, 1 thread ({len(texts)} msgs, batches of 256)",
            f"{statistics.median(rates):.0f} msg/s",
            "≥ 500 msg/s",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="repeats for timings (medians are printed)")
    parser.add_argument("--single", type=int, default=600, help="messages for the single-parse latency")
    parser.add_argument("--skip", default="", help="comma list of: banking77, clinc150, pack, speed")
    parser.add_argument(
        "--stages", default="", help="comma list of stages for the speed test (default: the pack's)"
    )
    parser.add_argument(
        "--cascade", type=float, default=0.0, help="consult a multilingual-e5 member below this confidence"
    )
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "intent"
        if "pack" not in skip or "speed" not in skip:
            bench_pack(args, model_dir)
        if "speed" not in skip:
            bench_speed(args, model_dir)
        if "banking77" not in skip:
            bench_banking77(args)
        if "clinc150" not in skip:
            bench_clinc(args)
    table = Table(title=f"intent benchmark (timings: median of {args.runs} runs)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


if __name__ == "__main__":
    main()
