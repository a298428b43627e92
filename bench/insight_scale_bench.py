"""Insight at scale: a mining run over 100,000 stored messages, and the embedder's throughput.

    .venv/bin/python bench/insight_scale_bench.py                      # SQLite, 100,000 rows, 3 runs
    .venv/bin/python bench/insight_scale_bench.py --db postgresql
    .venv/bin/python bench/insight_scale_bench.py --distinct-texts     # every row's text distinct
    .venv/bin/python bench/insight_scale_bench.py --skip-embedder      # mining only

**How the 100,000 rows are made (synthetic, said plainly).** A few thousand distinct real customer
texts (the pack's intent training examples in `nlu/intents/*.yaml`, the demo month's themes in
`insight/demo.yaml`, the two dev topic sets in `insight/dev/`; zh-Hans, zh-Hant and English) are
embedded once with `helixdesk.insight.embedder.Vectoriser` (multilingual-e5-small and the trained
intent model). The rows repeat them: each row takes one of those texts with its language, its
vector plus small Gaussian noise (made unit length again) and its intent probabilities with small
noise (made a distribution again), and a timestamp spread over the last 30 days. So the rows'
vectors and probabilities are realistic, but the texts repeat: `plan_run` clusters each distinct
text once, as it does with real traffic. `--distinct-texts` appends a ticket number to each row's
text, so that no two rows share a text (the worst case for that step). No row is a real customer's.

A fresh database (SQLite file, or a database of its own on the PostgreSQL server at `--pg-admin`,
dropped afterwards) is migrated and filled once; each mining run then runs in a fresh process
(`plan_run` as the worker runs it, then `apply_run` with the worker's pause between chunks on
SQLite), timed in parts: reading the rows, choosing k, clustering, keywords, the rest of the plan
(features, stable ids, scores) and the writes, with the process's peak RSS. Runs after the first
inherit the topic ids of the run before, as a daily run does.

**The embedder** (`--embed-rows`, default 1,000): rows of distinct texts the process has never
embedded (the pack's held-out intent and topic sets, so e5's per-text cache is cold) stored
without vectors, then `embed_next` + `store_embedded` (batches of 64, as the worker) until none is
left, in a fresh process on one core (e5 runs on one thread). Printed: rows per second, what that
is per day, and how long a day's 5,000 and 20,000 new messages take.

Timings are printed, never asserted; figures are medians over `--runs`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import database  # noqa: E402

PACK = ROOT / "src/helixdesk/packs/retail_bank"
DAYS = 30


def pool_texts() -> list[tuple[str, str]]:
    """Distinct (language, text) pairs of real customer wording the pack ships (not the held-out
    sets, which the embedder part uses as never-seen texts)."""
    import yaml

    found: dict[tuple[str, str], None] = {}
    for path in sorted((PACK / "nlu/intents").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for language, examples in (data.get("examples") or {}).items():
            for text in examples or []:
                found[(str(language), str(text).strip())] = None
    demo = yaml.safe_load((PACK / "insight/demo.yaml").read_text(encoding="utf-8")) or {}
    for theme in demo.get("themes") or []:
        for language, examples in (theme.get("customer") or {}).items():
            for text in examples or []:
                found[(str(language), str(text).strip())] = None
    for path in sorted((PACK / "insight/dev").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                found[(item["language"], item["text"].strip())] = None
    return [pair for pair in found if pair[1]]


def fresh_texts() -> list[tuple[str, str]]:
    """Distinct (language, text) pairs from the held-out sets, none of them in `pool_texts`."""
    pool = set(pool_texts())
    found: dict[tuple[str, str], None] = {}
    for path in (PACK / "nlu/heldout/intents.jsonl", PACK / "insight/heldout/topics.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                pair = (item["language"], item["text"].strip())
                if pair not in pool and pair[1]:
                    found[pair] = None
    return list(found)


def vectoriser(model_dir: Path):  # type: ignore[no-untyped-def]
    from helixdesk.insight.embedder import Vectoriser, intent_reader

    reader = intent_reader(model_dir / "retail_bank")
    if reader is None:
        sys.exit(f"no trained intent model in {model_dir}: run `helixdesk nlu train` first")
    return Vectoriser(reader)


def fill(
    url: str,
    messages: int,
    model_dir: Path,
    distinct_texts: bool,
    seed: int,
    pool_size: int = 0,
    cache: Path | None = None,
) -> dict[str, float]:
    """Migrate `url` and store `messages` rows made from the pool's embedded texts (see the module's
    docstring). Returns the pool's size and the seconds taken."""
    from sqlalchemy import insert

    from helixdesk.core.clock import utcnow
    from helixdesk.db.migrate import upgrade_engine
    from helixdesk.db.session import make_engine
    from helixdesk.insight.models import InsightMessage

    pool = pool_texts()
    if pool_size:
        pool = [pool[i] for i in np.random.default_rng(seed).permutation(len(pool))[:pool_size]]
    started = time.perf_counter()
    cached = cache is not None and cache.is_file()
    if cache is not None and cache.is_file():
        saved = np.load(cache)
        if len(saved["vectors"]) != len(pool):
            sys.exit(f"{cache} holds another pool's vectors: remove it")
        base_v, base_p = saved["vectors"], saved["intents"]
    else:
        vectorise = vectoriser(model_dir)
        vectors, intents = [], []
        for i in range(0, len(pool), 256):
            v, p = vectorise([t for _, t in pool[i : i + 256]])
            vectors.append(v)
            intents.append(p)
        base_v = np.vstack(vectors).astype(np.float32)
        base_p = np.vstack(intents).astype(np.float32)
        if cache is not None:
            np.savez(cache, vectors=base_v, intents=base_p)
    embedded = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    upgrade_engine(engine)
    now = utcnow()
    started = time.perf_counter()
    chunk = 5000
    distinct: set[object] = set()
    for start in range(0, messages, chunk):
        n = min(chunk, messages - start)
        pick = rng.integers(0, len(pool), n)
        distinct.update(pick.tolist())
        v = base_v[pick] + rng.normal(0.0, 0.01, (n, base_v.shape[1])).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        p = np.clip(base_p[pick] + rng.normal(0.0, 0.005, (n, base_p.shape[1])).astype(np.float32), 0.0, None)
        p /= p.sum(axis=1, keepdims=True)
        ages = rng.uniform(60.0, DAYS * 86400.0 - 60.0, n)
        rows = []
        for j in range(n):
            language, text = pool[int(pick[j])]
            if distinct_texts:
                text = f"{text} #{start + j:06d}"
            rows.append(
                {
                    "id": uuid.uuid4().hex,
                    "conversation_id": None,
                    "source": "chat",
                    "channel": "web",
                    "language": language,
                    "queue": "general",
                    "product": None,
                    "intent": None,
                    "negative": False,
                    "handed_off": False,
                    "answered": True,
                    "rejected": False,
                    "csat": None,
                    "text": text,
                    "vector": v[j].tobytes(),
                    "intents": p[j].astype(np.float32).tobytes(),
                    "topic_id": None,
                    "topic_score": None,
                    "at": now - timedelta(seconds=float(ages[j])),
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(InsightMessage), rows)
    stored = time.perf_counter() - started
    engine.dispose()
    texts = messages if distinct_texts else len(distinct)
    return {"pool": len(pool), "texts": texts, "embed_pool_s": embedded, "cached": cached, "store_s": stored}


def mine_once(url: str, sqlite: bool) -> dict[str, float]:
    """One mining run as the worker runs it (in this process), timed in parts."""
    from helixdesk.core.clock import utcnow
    from helixdesk.db.session import make_engine, make_session_factory
    from helixdesk.insight import mining

    imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    marks: dict[str, float] = {}
    spent: dict[str, float] = {"choose_k": 0.0, "cluster": 0.0, "keywords": 0.0}

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*a, **k):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - began

        return wrapper

    fit = mining.Space.fit

    def fit_marked(*a, **k):  # type: ignore[no-untyped-def]
        marks.setdefault("read", time.perf_counter())
        return fit(*a, **k)

    mining.Space.fit = fit_marked  # type: ignore[method-assign]
    mining.choose_k = timed("choose_k", mining.choose_k)
    mining.cluster = timed("cluster", mining.cluster)
    mining.keywords = timed("keywords", mining.keywords)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = utcnow()
    began = time.perf_counter()
    plan = mining.plan_run(sessions, since=now - timedelta(days=DAYS + 1), until=now)
    planned = time.perf_counter()
    if plan is None:
        sys.exit("nothing to mine")
    summary = mining.apply_run(sessions, plan, pause=0.03 if sqlite else 0.0)
    applied = time.perf_counter()
    engine.dispose()
    read = marks["read"] - began
    plan_s = planned - began
    return {
        "messages": summary.messages,
        "topics": summary.topics,
        "new_topics": summary.new_topics,
        "read_s": read,
        "choose_k_s": spent["choose_k"],
        "cluster_s": spent["cluster"],
        "keywords_s": spent["keywords"],
        "plan_other_s": plan_s - read - spent["choose_k"] - spent["cluster"] - spent["keywords"],
        "plan_s": plan_s,
        "apply_s": applied - planned,
        "total_s": applied - began,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "imports_rss_mb": imported,
    }


def idle_queries(url: str, new_rows: int = 64, repeats: int = 5) -> dict[str, float]:
    """What the worker reads while idle, on the mined table: `new_rows` rows arrive without vectors,
    then the embedder's next batch (`embed_next`'s read) and `mining_due` (every `idle_seconds`
    when there is nothing to embed) are timed, medians of `repeats`, in milliseconds."""
    from sqlalchemy import insert, update

    from helixdesk.core.clock import utcnow
    from helixdesk.db.session import make_engine, make_session_factory, reading
    from helixdesk.insight.embedder import embed_next
    from helixdesk.insight.models import InsightMessage
    from helixdesk.insight.worker import mining_due

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = utcnow()
    ids = [uuid.uuid4().hex for _ in range(new_rows)]
    with engine.begin() as conn:
        conn.execute(
            insert(InsightMessage),
            [
                {"id": i, "source": "chat", "channel": "web", "language": "en", "text": f"new {n}", "at": now}
                for n, i in enumerate(ids)
            ],
        )

    def no_vectors(texts):  # type: ignore[no-untyped-def]
        return np.zeros((len(texts), 384), dtype=np.float32), None

    pending, due = [], []
    for _ in range(repeats):
        began = time.perf_counter()
        batch = embed_next(sessions, no_vectors)  # type: ignore[arg-type]
        pending.append(time.perf_counter() - began)
        assert batch is not None and len(batch.ids) == new_rows
    with engine.begin() as conn:  # every row has its vector: the worker now asks whether to mine
        conn.execute(update(InsightMessage).where(InsightMessage.id.in_(ids)).values(vector=b"\0" * 1536))
    for _ in range(repeats):
        began = time.perf_counter()
        with reading(sessions) as s:
            mining_due(s, every=timedelta(0), window=timedelta(days=DAYS))  # as if a run were due: its counts
        due.append(time.perf_counter() - began)
    engine.dispose()
    return {
        "embed_next_ms": statistics.median(pending) * 1000,
        "mining_due_ms": statistics.median(due) * 1000,
    }


def embed_once(url: str, rows: int, model_dir: Path) -> dict[str, float]:
    """Store `rows` never-embedded texts without vectors, then embed them as the worker does."""
    from sqlalchemy import insert

    from helixdesk.core.clock import utcnow
    from helixdesk.db.migrate import upgrade_engine
    from helixdesk.db.session import make_engine, make_session_factory
    from helixdesk.insight.embedder import embed_next, store_embedded
    from helixdesk.insight.models import InsightMessage

    texts = fresh_texts()
    if len(texts) < rows:
        print(f"only {len(texts)} never-seen texts: embedding that many", file=sys.stderr)
        rows = len(texts)
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(InsightMessage),
            [
                {
                    "id": uuid.uuid4().hex,
                    "source": "chat",
                    "channel": "web",
                    "language": language,
                    "text": text,
                    "at": now - timedelta(seconds=rows - i),
                }
                for i, (language, text) in enumerate(texts[:rows])
            ],
        )
    vectorise = vectoriser(model_dir)
    vectorise(["warm-up: load both models outside the timing"])
    began = time.perf_counter()
    compute = 0.0
    done = 0
    while True:
        t0 = time.perf_counter()
        batch = embed_next(sessions, vectorise)
        compute += time.perf_counter() - t0
        if batch is None:
            break
        done += store_embedded(sessions, batch)
    seconds = time.perf_counter() - began
    engine.dispose()
    return {"rows": done, "seconds": seconds, "compute_s": compute, "rows_s": done / seconds}


def child(args: argparse.Namespace, what: str, url: str) -> dict[str, float]:
    """Run `what` in a fresh process (clean peak RSS and a cold e5 cache); its JSON result."""
    cmd = [sys.executable, __file__, "--child", what, "--url", url, "--model-dir", str(args.model_dir)]
    cmd += ["--embed-rows", str(args.embed_rows), "--db", args.db]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--distinct-texts", action="store_true", help="no two rows share a text")
    parser.add_argument("--pool", type=int, default=0, help="embed at most this many real texts (0: all)")
    parser.add_argument(
        "--pool-cache", type=Path, help="keep the pool's vectors in this .npz (made on first use) across runs"
    )
    parser.add_argument("--embed-rows", type=int, default=1000)
    parser.add_argument("--skip-embedder", action="store_true")
    parser.add_argument("--skip-mining", action="store_true")
    parser.add_argument("--model-dir", type=Path, default=Path("var/models"))
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get("HELIXDESK_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test"),
    )
    parser.add_argument("--child", choices=["mine", "embed", "idle"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.model_dir = args.model_dir.resolve()
    if args.child == "mine":
        print(json.dumps(mine_once(args.url, args.db == "sqlite")))
        return
    if args.child == "idle":
        print(json.dumps(idle_queries(args.url)))
        return
    if args.child == "embed":
        print(json.dumps(embed_once(args.url, args.embed_rows, args.model_dir)))
        return
    if not (args.model_dir / "retail_bank").is_dir():
        sys.exit(f"no trained models in {args.model_dir}: run `helixdesk nlu train` first")
    print(f"insight at scale, {args.db}, {os.cpu_count()} cores, load average at the start {load()}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_mining:
            with database(args.db, tmp, args.pg_admin, prefix="insightbench") as url:
                made = fill(
                    url,
                    args.messages,
                    args.model_dir,
                    args.distinct_texts,
                    seed=0,
                    pool_size=args.pool,
                    cache=args.pool_cache,
                )
                print(
                    f"rows: {args.messages:,} SYNTHETIC rows made from {made['pool']:,} distinct real texts of the"
                    f" pack (intent examples, demo themes, dev topic sets), each embedded once"
                    f" ({made['embed_pool_s']:.0f} s{', read from --pool-cache' if made['cached'] else ''}), repeated with noise on the vectors (sigma 0.01) and"
                    f" intent probabilities (0.005), timestamps over {DAYS} days"
                    + ("; every row's text made distinct by a ticket number" if args.distinct_texts else "")
                    + f"; {made['texts']:,} distinct texts among the rows; stored in {made['store_s']:.0f} s"
                )
                runs = []
                for run in range(args.runs):
                    found = child(args, "mine", url)
                    runs.append(found)
                    print(
                        f"  run {run + 1}: {found['messages']:,} messages, {found['topics']} topics"
                        f" ({found['new_topics']} new): plan {found['plan_s']:.1f} s (read {found['read_s']:.1f},"
                        f" choose k {found['choose_k_s']:.1f}, cluster {found['cluster_s']:.1f}, keywords"
                        f" {found['keywords_s']:.1f}, other {found['plan_other_s']:.1f}), apply"
                        f" {found['apply_s']:.1f} s, total {found['total_s']:.1f} s, peak RSS"
                        f" {found['peak_rss_mb']:.0f} MB ({found['imports_rss_mb']:.0f} MB after imports); load {load()}"
                    )
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                idle = child(args, "idle", url)
                print(
                    f"  the worker's reads while idle on the mined table (64 new rows arrived): the embedder's"
                    f" next batch {idle['embed_next_ms']:.0f} ms, mining_due {idle['mining_due_ms']:.0f} ms"
                    f" (medians of 5)"
                )
                print(
                    f"mining, median of {args.runs}: {med['messages']:,.0f} messages -> {med['topics']:.0f} topics;"
                    f" plan_run {med['plan_s']:.1f} s (read {med['read_s']:.1f}, choose k {med['choose_k_s']:.1f},"
                    f" cluster {med['cluster_s']:.1f}, keywords {med['keywords_s']:.1f}, other"
                    f" {med['plan_other_s']:.1f}); apply_run {med['apply_s']:.1f} s; total {med['total_s']:.1f} s;"
                    f" peak RSS {med['peak_rss_mb']:.0f} MB ({med['imports_rss_mb']:.0f} MB after imports)"
                )
        if not args.skip_embedder:
            runs = []
            for run in range(args.runs):
                with database(args.db, tmp, args.pg_admin, prefix="insightbench") as url:
                    found = child(args, "embed", url)
                runs.append(found)
                print(
                    f"  embedder run {run + 1}: {found['rows']:.0f} rows in {found['seconds']:.1f} s"
                    f" ({found['rows_s']:.1f} rows/s; vectors {found['compute_s']:.1f} s); load {load()}"
                )
            rate = statistics.median(r["rows_s"] for r in runs)
            print(
                f"embedder, median of {args.runs}: {rate:.1f} new rows/s on one core (e5 + intent model, never-seen"
                f" texts, batches of 64) = {rate * 86400:,.0f} a day flat out; 5,000 new messages"
                f" {5000 / rate / 60:.1f} min, 20,000 {20000 / rate / 60:.1f} min"
            )
    print(f"load average at the end {load()}")


if __name__ == "__main__":
    main()
