"""Tune the knowledge base's re-ranking weights and grounding threshold on the DEV set only.

    .venv/bin/python bench/knowledge_tune.py [--dev bench/data/kb_dev.jsonl]

The dev set (bench/data/kb_dev.jsonl) is our own paraphrases, written separately from the pack's
held-out questions, plus unanswerable questions. The held-out set is never read here. Intent hints
come from the pack's intent model trained here on the pack's NLU examples (as the bot would pass
them). Prints the best weights (by dev top-1, then MRR) and the threshold trade-off; copy the
chosen values into helixdesk/knowledge/rerank.py and retrieval.py DEFAULT_THRESHOLD.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from knowledge_bench import intent_hints, temp_sessions  # noqa: E402

from helixdesk.knowledge.evaluation import load_questions, pack_knowledge_base  # noqa: E402
from helixdesk.knowledge.rerank import FEATURES  # noqa: E402
from helixdesk.nlu.embeddings import embed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev", type=Path, default=ROOT / "bench" / "data" / "kb_dev.jsonl")
    args = parser.parse_args()
    out = Console()
    dev = load_questions(args.dev)
    with tempfile.TemporaryDirectory() as tmp:
        kb = pack_knowledge_base(temp_sessions(Path(tmp)), embed=embed)
        hints = intent_hints([q.text for q in dev])
        data = []
        for q, hint in zip(dev, hints, strict=True):
            ids, feats = kb.candidates(q.text, intent=hint)
            data.append((q, ids, feats))
    grid = [0.0, 0.1, 0.2, 0.3, 0.5]
    best: tuple[float, float, tuple[float, ...]] = (-1.0, -1.0, ())
    for combo in itertools.product([0.3, 0.45, 0.6], [0.0, 0.1, 0.2], grid, grid, grid, grid):
        w = np.array(combo)
        top1 = mrr = 0.0
        n = 0
        for q, ids, feats in data:
            if not q.faq:
                continue
            n += 1
            order = np.argsort(-(feats @ w), kind="stable")
            ranks = [r for r, i in enumerate(order, start=1) if ids[i] in q.faq]
            if ranks:
                top1 += ranks[0] == 1
                mrr += 1 / ranks[0]
        key = (top1 / n, mrr / n, combo)
        if key[:2] > best[:2]:
            best = key
    out.print(
        f"best dev top-1 {best[0]:.3f}, MRR {best[1]:.3f} with weights {dict(zip(FEATURES, best[2], strict=True))}"
    )
    w = np.array(best[2])
    table = Table(title="grounding threshold on dev (rerank score of the best hit)")
    for col in ("threshold", "unanswerable refused", "answerable refused", "answered right"):
        table.add_column(col, justify="right")
    top = [(q, ids[int(np.argmax(feats @ w))], float((feats @ w).max())) for q, ids, feats in data]
    unans = [t for t in top if not t[0].faq]
    ans = [t for t in top if t[0].faq]
    for th in np.arange(0.2, 0.75, 0.025):
        table.add_row(
            f"{th:.3f}",
            f"{sum(s < th for _, _, s in unans) / len(unans):.2f}",
            f"{sum(s < th for _, _, s in ans) / len(ans):.2f}",
            f"{sum(s >= th and i in q.faq for q, i, s in ans) / len(ans):.2f}",
        )
    out.print(table)


if __name__ == "__main__":
    main()
