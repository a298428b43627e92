"""Knowledge-base retrieval benchmark on the pack's held-out paraphrased questions.

    .venv/bin/python bench/knowledge_bench.py [--runs 5] [--questions PATH] [--no-intent]

Ingests the pack FAQ into a temporary SQLite database and prints:
- top-1, MRR and recall@3 for BM25 alone, dense (USE-multilingual) alone, the fused hybrid and the
  hybrid + re-rank, without and with the NLU intent hint (the pack's intent model, loaded from
  $HELIXDESK_MODEL_DIR/retail_bank/intent when present, else trained here on the pack's examples);
- grounding: how many of the unanswerable questions are refused (precision/recall of "not
  grounded") and how many answerable ones are answered correctly, at the shipped threshold;
- search latency p50/p99 (one query at a time, the query embedding not cached), median over runs.

The held-out questions (src/helixdesk/packs/retail_bank/kb/heldout/questions.jsonl) were never used
for tuning: see bench/knowledge_tune.py, which uses bench/data/kb_dev.jsonl only.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from helixdesk.core.settings import Settings  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory  # noqa: E402
from helixdesk.knowledge.evaluation import (  # noqa: E402
    grounding_scores,
    load_questions,
    pack_knowledge_base,
    retrieval_scores,
)
from helixdesk.knowledge.retrieval import KnowledgeBase  # noqa: E402
from helixdesk.nlu.embeddings import embed, use_embedder  # noqa: E402
from helixdesk.packs.loader import load_pack  # noqa: E402

HELDOUT = load_pack("retail_bank").path / "kb" / "heldout" / "questions.jsonl"


def temp_sessions(folder: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{folder / 'kb.db'}")
    upgrade_engine(engine)
    return make_session_factory(engine)


def intent_hints(texts: list[str]) -> list[dict[str, float]]:
    """The pack intent model's top-5 ranking {intent: probability} per text, as Turn.intent_ranking."""
    from helixdesk.nlu.intent.artefacts import load_model
    from helixdesk.nlu.intent.data import load_examples
    from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig

    folder = Settings().model_dir / "retail_bank" / "intent"
    if folder.is_dir():
        model, _ = load_model(folder)
    else:
        model = IntentClassifier.train(load_examples("pack"), IntentConfig())
    return [{i.name: i.confidence for i in p.ranking} for p in model.predict(texts, top_k=5)]


def latency(kb: KnowledgeBase, texts: list[str], runs: int) -> tuple[float, float]:
    p50s, p99s = [], []
    for _ in range(runs):
        use_embedder().clear_cache()
        times = []
        for text in texts:
            start = time.perf_counter()
            kb.search(text, top_k=5)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p50s.append(statistics.median(times))
        p99s.append(times[min(len(times) - 1, int(len(times) * 0.99))])
    return statistics.median(p50s), statistics.median(p99s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=HELDOUT)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-intent", action="store_true", help="Skip the runs with NLU intent hints.")
    args = parser.parse_args()
    out = Console()
    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        kb = pack_knowledge_base(temp_sessions(Path(tmp)), embed=embed)
        build = time.perf_counter() - start
        start = time.perf_counter()
        kb.load()
        load = (time.perf_counter() - start) * 1000
        answerable = sum(q.answerable for q in questions)
        table = Table(
            title=f"retrieval on {args.questions.name}: {answerable} answerable questions, {kb.size} chunks"
        )
        for col in ("method", "intent hint", "top-1", "MRR", "recall@3"):
            table.add_column(col, justify="right" if col not in ("method", "intent hint") else "left")
        hinted = questions
        if not args.no_intent:
            from dataclasses import replace

            hints = intent_hints([q.text for q in questions])
            hinted = [replace(q, intent=h) for q, h in zip(questions, hints, strict=True)]
        for method in ("bm25", "dense", "fused", "rerank"):
            scores = retrieval_scores(kb, questions, method=method, use_intent=False)
            table.add_row(method, "none", f"{scores.top1:.3f}", f"{scores.mrr:.3f}", f"{scores.recall3:.3f}")
        if not args.no_intent:
            scores = retrieval_scores(kb, hinted, method="rerank", use_intent=True)
            table.add_row(
                "rerank", "NLU model", f"{scores.top1:.3f}", f"{scores.mrr:.3f}", f"{scores.recall3:.3f}"
            )
        out.print(table)
        gt = Table(title=f"grounding at the shipped threshold {kb.threshold:.3f}")
        for col in (
            "intent hint",
            "unanswerable",
            "refusal precision",
            "refusal recall",
            "answerable",
            "answered right",
            "refused",
        ):
            gt.add_column(col, justify="right")
        runs = [("none", questions, False)] + ([] if args.no_intent else [("NLU model", hinted, True)])
        for label, qs, use in runs:
            g = grounding_scores(kb, qs, threshold=kb.threshold, use_intent=use)
            gt.add_row(
                label,
                str(g.unanswerable),
                f"{g.refusal_precision:.3f}",
                f"{g.refusal_recall:.3f}",
                str(g.answerable),
                f"{g.answered_correct:.3f}",
                f"{g.false_refusals:.3f}",
            )
        out.print(gt)
        p50, p99 = latency(kb, [q.text for q in questions], args.runs)
        out.print(
            f"search latency (embedding not cached, median of {args.runs} runs): p50 {p50:.2f} ms, p99 {p99:.2f} ms; "
            f"first ingest {build:.1f} s, load from DB {load:.0f} ms"
        )


if __name__ == "__main__":
    main()
