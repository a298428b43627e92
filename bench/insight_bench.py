"""Hotspot mining on the pack's labelled topic set: how well the topics found match the known ones.

The set (`packs/retail_bank/insight/heldout/topics.jsonl`; `--set eval_d` and `--set eval_e` for
the third and fourth held-out sets, `heldout/topics_d.jsonl` and `topics_e.jsonl`, written blind;
`--set dev`, `--set dev_b` and `--set eval_c` for the tuning sets: `insight/dev/` and
`heldout/topics_c.jsonl`, held out until it was read once, tuned on since) holds customer messages
in zh-Hans, zh-Hant and English, each labelled with one of 20 (eval_c, eval_d and eval_e: 18,
dev_b: 15) known topics, and with the channel it came by (its style). The
messages are embedded (multilingual-e5-small, "query:"), centred per language and then per style
(`--no-styles`: per language only), joined by the square roots of the NLU's intent probabilities
(`helixdesk.insight.topics.features`) and clustered by spectral clustering on the
nearest-neighbour graph (`--method kmeans` for k-means; `--baseline` for the method before the
second dev set: unit-length probabilities at weight 0.5, k-means, even k from 8 to 40). What was
tried beyond this and not kept (USE vectors, a neighbour graph balanced across languages, other
features), with its dev and demo-month figures: docs/insight.md, "Measured". Printed:

- ARI: the adjusted Rand index of the clusters against the known topics (1 is a perfect match);
- topics whose three languages land in one cluster: for each known topic, the cluster most of its
  zh-Hans messages fall in is also where most of its zh-Hant and most of its English ones fall;
- the keywords and one representative message of each cluster (`--show`);
- the time to embed a message, and to choose k and cluster 100,000 messages (vectors drawn from
  the set's, with noise), on this machine.

    .venv/bin/python bench/insight_bench.py [--set eval|eval_c|eval_d|eval_e|dev|dev_b] [--k 20]
        [--method spectral|kmeans] [--baseline] [--no-intents] [--no-styles] [--raw] [--show] [--seeds 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helixdesk.insight.topics import (  # noqa: E402
    CANDIDATES,
    choose_k,
    cluster,
    embed_messages,
    features,
    mine,
)
from helixdesk.packs.loader import load_pack  # noqa: E402

SETS = {
    "eval": "heldout/topics.jsonl",
    "eval_c": "heldout/topics_c.jsonl",
    "eval_d": "heldout/topics_d.jsonl",
    "eval_e": "heldout/topics_e.jsonl",
    "dev": "dev/topics.jsonl",
    "dev_b": "dev/topics_b.jsonl",
}
# The method before the second dev set: even k from 8 to 40.
BASELINE_CANDIDATES = tuple(range(8, 41, 2))


def load(name: str) -> list[dict[str, str]]:
    path = load_pack("retail_bank").path / "insight" / SETS[name]
    if not path.is_file():
        sys.exit(f"no labelled topic set at {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def intent_probabilities(texts: list[str], model_dir: Path) -> np.ndarray:
    from helixdesk.nlu.intent.artefacts import load_model

    if not (model_dir / "retail_bank").is_dir():
        sys.exit(f"no trained models in {model_dir}: run `helixdesk nlu train` (or pass --no-intents)")
    model, _ = load_model(model_dir / "retail_bank")
    return np.asarray(model.predict_proba(texts), dtype=np.float32)


def cohesion(topics: list[str], languages: list[str], labels: np.ndarray) -> float:
    """Share of known topics whose languages' majority clusters are one and the same."""
    held = 0
    names = sorted(set(topics))
    for name in names:
        majority = set()
        for language in sorted(set(languages)):
            rows = [
                i
                for i, (t, lang) in enumerate(zip(topics, languages, strict=True))
                if t == name and lang == language
            ]
            if rows:
                majority.add(Counter(int(labels[i]) for i in rows).most_common(1)[0][0])
        held += len(majority) == 1
    return held / len(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="eval")
    parser.add_argument("--k", type=int, help="clusters (default: chosen by silhouette, 6-40)")
    parser.add_argument("--method", choices=("spectral", "kmeans"), default="spectral")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="the method before the second dev set (unit-length probabilities at 0.5, k-means, even k 8-40)",
    )
    parser.add_argument("--seeds", type=int, default=1, help="also print ARI's mean over this many seeds")
    parser.add_argument("--raw", action="store_true", help="embeddings only, without per-language centring")
    parser.add_argument("--no-intents", action="store_true", help="without the NLU's intent probabilities")
    parser.add_argument(
        "--no-styles", action="store_true", help="without centring each style (the set's channel) on its mean"
    )
    parser.add_argument(
        "--model-dir", default="var/models", help="where `helixdesk nlu train` put the models"
    )
    parser.add_argument("--show", action="store_true", help="print each cluster's keywords and a message")
    parser.add_argument(
        "--scale", type=int, default=100_000, help="messages for the clustering timing (0: no timing)"
    )
    args = parser.parse_args()

    rows = load(args.set)
    texts = [r["text"] for r in rows]
    languages = [r["language"] for r in rows]
    topics = [r["topic"] for r in rows]
    started = time.perf_counter()
    vectors = embed_messages(texts)
    embed_ms = (time.perf_counter() - started) * 1000 / len(texts)
    intents = None if args.raw or args.no_intents else intent_probabilities(texts, Path(args.model_dir))
    method = "kmeans" if args.baseline else args.method
    candidates = BASELINE_CANDIDATES if args.baseline else CANDIDATES
    styles = None if args.raw or args.baseline or args.no_styles else [r.get("channel", "chat") for r in rows]
    space = (
        vectors
        if args.raw
        else features(vectors, languages, intents, intent_root=not args.baseline, styles=styles)
    )
    k = args.k or choose_k(space, candidates)
    labels, _ = cluster(space, k, method=method)
    print(
        f"topic set {args.set}: {len(rows)} messages, {len(set(topics))} known topics, {dict(Counter(languages))}"
    )
    what = (
        "raw e5"
        if args.raw
        else "e5 centred per language"
        + ("" if styles is None else ", then per style")
        + ("" if intents is None else " + intent probabilities" + ("" if args.baseline else " (roots)"))
    )
    print(f"{what}, {method} k={k}{'' if args.k else ' (silhouette)'}")
    print(f"ARI {adjusted_rand_score(topics, labels):.3f}")
    print(f"topics whose languages share one cluster: {cohesion(topics, languages, labels):.0%}")
    if args.seeds > 1:
        scores = [
            adjusted_rand_score(topics, cluster(space, k, seed, method=method)[0])
            for seed in range(args.seeds)
        ]
        print(
            f"ARI over {args.seeds} seeds: mean {statistics.mean(scores):.3f}, sd {statistics.pstdev(scores):.3f}"
        )
    if args.show:
        found = mine(
            texts,
            languages,
            vectors,
            intents=intents,
            k=k,
            method=method,
            intent_root=not args.baseline,
            styles=styles,
        )
        for topic in found:
            known = Counter(topics[i] for i in topic.members).most_common(2)
            print(
                f"  [{topic.size:3d}] {', '.join(topic.keywords)} | {known} | {texts[topic.representatives[0]][:60]}"
            )

    if args.scale <= 0:
        print(f"speed: embedding {embed_ms:.1f} ms per message (first embedding, no cache)")
        return
    rng = np.random.default_rng(0)
    big = space[rng.integers(0, len(space), args.scale)] + rng.normal(0, 0.05, (args.scale, space.shape[1]))
    big = (big / np.linalg.norm(big, axis=1, keepdims=True)).astype(np.float32)
    started = time.perf_counter()
    chosen = choose_k(big, candidates)
    choosing = time.perf_counter() - started
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        cluster(big, k, method=method)
        timings.append(time.perf_counter() - started)
    print(
        f"speed: embedding {embed_ms:.1f} ms per message (first embedding, no cache); "
        f"{method} of {args.scale:,} messages {statistics.median(timings):.1f} s (median of 3), "
        f"choosing k {choosing:.1f} s (k={chosen})"
    )
    print(f"  embedding {args.scale:,} new messages at that rate: {embed_ms * args.scale / 60000:.1f} min")


if __name__ == "__main__":
    main()
