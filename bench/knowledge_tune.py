"""Learn the knowledge base's re-ranking weights and choose the grounding threshold on the DEV set only.

    .venv/bin/python bench/knowledge_tune.py [--dev bench/data/kb_dev.jsonl] [--write]

The dev set (bench/data/kb_dev.jsonl) is our own paraphrases of the pack's FAQ questions plus
questions the FAQ cannot answer, written separately from the pack's held-out questions, which are
never read here. Intent hints come from the pack's intent model (as the bot passes them).

Prints 5-fold cross-validated top-1 / MRR of the learned ranking for a few regularisation
strengths, then the grounding trade-off (share of unanswerable questions refused, of answerable
ones refused, answered right) for thresholds on the confidence of the cross-validated best hit.
`--write` fits the chosen model on the whole dev set and writes
src/helixdesk/knowledge/rerank_model.json; the threshold is set by hand in
helixdesk/knowledge/retrieval.py (DEFAULT_THRESHOLD) from the printed table.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from knowledge_bench import intent_hints, temp_sessions  # noqa: E402

from helixdesk.knowledge.evaluation import LabelledQuestion, load_questions, pack_knowledge_base  # noqa: E402
from helixdesk.knowledge.rerank import (  # noqa: E402
    BASE_FEATURES,
    MODEL_FILE,
    ConfidenceWeights,
    RankingModel,
    fit_ranking_model,
)
from helixdesk.nlu.embeddings import embed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FOLDS = 5
L2_GRID = (1e-3, 3e-3, 1e-2)

Example = tuple[LabelledQuestion, list[str | None], np.ndarray, np.ndarray]


def cross_validate(data: list[Example], l2: float) -> list[tuple[LabelledQuestion, int]]:
    """(question, index of the predicted best candidate) for every dev question, out of fold."""
    folds = np.random.default_rng(0).integers(0, FOLDS, len(data))
    out: list[tuple[LabelledQuestion, int]] = [(q, 0) for q, _, _, _ in data]
    for k in range(FOLDS):
        train = [(x, right) for (_, _, x, right), f in zip(data, folds, strict=True) if f != k]
        model = fit_ranking_model(train, l2=l2)
        for n, ((q, _, x, _), f) in enumerate(zip(data, folds, strict=True)):
            if f == k:
                out[n] = (q, int(np.argmax(x @ model.vector())))
    return out


def ranking_scores(data: list[Example], l2: float) -> tuple[float, float]:
    folds = np.random.default_rng(0).integers(0, FOLDS, len(data))
    top1 = mrr = 0.0
    n = 0
    for k in range(FOLDS):
        train = [(x, right) for (_, _, x, right), f in zip(data, folds, strict=True) if f != k]
        model = fit_ranking_model(train, l2=l2)
        for (q, _, x, right), f in zip(data, folds, strict=True):
            if f != k or not q.answerable:
                continue
            n += 1
            order = np.argsort(-(x @ model.vector()), kind="stable")
            ranks = [r for r, i in enumerate(order, start=1) if right[i]]
            if ranks:
                top1 += ranks[0] == 1
                mrr += 1 / ranks[0]
    return top1 / n, mrr / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev", type=Path, default=ROOT / "bench" / "data" / "kb_dev.jsonl")
    parser.add_argument("--write", action="store_true", help=f"Write the fitted weights to {MODEL_FILE}.")
    args = parser.parse_args()
    out = Console()
    dev = load_questions(args.dev)
    with tempfile.TemporaryDirectory() as tmp:
        kb = pack_knowledge_base(temp_sessions(Path(tmp)), embed=embed, ranking=RankingModel(weights={}))
        hints = intent_hints([q.text for q in dev])
        data: list[Example] = []
        for q, hint in zip(dev, hints, strict=True):
            ids, feats = kb.candidates(q.text, intent=hint)
            data.append((q, ids, feats, np.array([i in q.faq for i in ids])))
    answerable = sum(q.answerable for q in dev)
    table = Table(title=f"learned ranking, {FOLDS}-fold CV on {answerable} answerable dev questions")
    for col in ("L2", "top-1", "MRR"):
        table.add_column(col, justify="right")
    best = (-1.0, -1.0, L2_GRID[0])
    for l2 in L2_GRID:
        top1, mrr = ranking_scores(data, l2)
        table.add_row(f"{l2:g}", f"{top1:.3f}", f"{mrr:.3f}")
        best = max(best, (top1, mrr, l2))
    out.print(table)
    l2 = best[2]
    confidence = ConfidenceWeights().vector()
    picks = cross_validate(data, l2)
    rows = [
        (q, ids[i] in q.faq, float(x[i, : len(BASE_FEATURES)] @ confidence))
        for (q, i), (_, ids, x, _) in zip(picks, data, strict=True)
    ]
    unans = [c for q, _, c in rows if not q.answerable]
    ans = [(right, c) for q, right, c in rows if q.answerable]
    gt = Table(title=f"grounding on dev (confidence of the CV best hit, L2 {l2:g})")
    for col in (
        "threshold",
        f"unanswerable refused (of {len(unans)})",
        "answerable refused",
        "answered right",
    ):
        gt.add_column(col, justify="right")
    for th in np.arange(0.38, 0.56, 0.01):
        gt.add_row(
            f"{th:.2f}",
            f"{sum(c < th for c in unans) / len(unans):.2f}",
            f"{sum(c < th for _, c in ans) / len(ans):.3f}",
            f"{sum(right and c >= th for right, c in ans) / len(ans):.3f}",
        )
    out.print(gt)
    if args.write:
        note = f"listwise softmax, L2 {l2:g}, fitted on {args.dev.name} ({len(dev)} questions)"
        model = fit_ranking_model([(x, right) for _, _, x, right in data], l2=l2, note=note)
        model.save(MODEL_FILE)
        out.print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
