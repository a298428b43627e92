"""A mining run: cluster the stored vectors of a window into topics with stable ids.

    summary = mine_window(sessions, since=now - timedelta(days=30), until=now)

The worker runs `plan_run` (reading and clustering) at idle CPU priority and `apply_run` (short
writes) at normal priority.

It reads only stored vectors (the embedder computed them as rows arrived), so a daily run costs
clustering, not embedding. Topic ids are stable across runs: each new cluster takes the id of
the earlier topic most of its rows belonged to (when at least `INHERIT_SHARE` of them did, each id
to one cluster at most, the largest overlaps first); any other cluster is a new topic. Every row
of the window gets its topic and its cosine to the topic's centre; the run stores its space
(`insight.space`) so rows arriving later join its topics.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading, transaction
from helixdesk.insight.clusters import stack_intents
from helixdesk.insight.models import InsightMessage, InsightRun, InsightTopic
from helixdesk.insight.space import Space, style_of
from helixdesk.insight.topics import CANDIDATES, choose_k, cluster, keywords

INHERIT_SHARE = 0.3
MIN_ROWS = 20
MIN_TOPIC_ROWS = 8


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: int
    messages: int
    topics: int
    new_topics: int
    seconds: float


@dataclass
class Plan:
    """A computed run, not written yet: each row's topic and score, each topic's keywords and
    size, and the space."""

    since: datetime
    until: datetime
    assignments: list[dict[str, object]]
    topics: dict[str, tuple[list[str], int]]
    space: Space
    new_topics: int
    started: float


def plan_run(
    sessions: sessionmaker[Session],
    *,
    since: datetime,
    until: datetime,
    k: int | None = None,
    candidates: Sequence[int] = CANDIDATES,
    seed: int = 0,
) -> Plan | None:
    """Cluster the rows of [since, until) that have vectors (reads only: run it at idle
    priority); None when there are fewer than `MIN_ROWS`."""
    started = time.perf_counter()
    with reading(sessions) as s:
        rows = s.execute(
            select(
                InsightMessage.id,
                InsightMessage.text,
                InsightMessage.language,
                InsightMessage.source,
                InsightMessage.channel,
                InsightMessage.vector,
                InsightMessage.intents,
                InsightMessage.topic_id,
            )
            .where(InsightMessage.at >= since, InsightMessage.at < until, InsightMessage.vector.is_not(None))
            .order_by(InsightMessage.at)
        ).all()
    if len(rows) < MIN_ROWS:
        return None
    vectors = np.stack([np.frombuffer(r.vector, dtype=np.float32) for r in rows])
    intents = stack_intents(rows)
    languages = [r.language for r in rows]
    styles = [style_of(r.source, r.channel) for r in rows]
    space = Space.fit(vectors, intents, languages, styles=styles)
    feats = space.features(vectors, intents, languages, styles)
    # The same text in the same language is clustered once: many customers write the very same
    # words ("卡被冻结了"), and copies would be each other's nearest neighbours, cutting the
    # neighbour graph into islands of one text each.
    first: dict[tuple[str, str], int] = {}
    copy_of = np.array([first.setdefault((r.language, r.text.strip()), i) for i, r in enumerate(rows)])
    unique = np.unique(copy_of)
    if k is None:
        # A topic worth the name has a few messages: at most one topic per `MIN_TOPIC_ROWS` rows.
        # (`choose_k` reads the silhouette of a sample.)
        usable = [c for c in candidates if c <= max(min(candidates), len(unique) // MIN_TOPIC_ROWS)]
        k = choose_k(feats[unique], usable, seed)
    unique_labels, centres = cluster(feats[unique], k, seed, method="spectral")
    label_of = dict(zip(unique.tolist(), unique_labels.tolist(), strict=True))
    labels = np.array([label_of[int(c)] for c in copy_of])
    words = keywords([r.text for r in rows], labels)
    ids, new = _stable_ids(labels, [r.topic_id for r in rows])
    order = sorted(ids)
    space = space.with_topics(np.stack([centres[label] for label in order]), [ids[label] for label in order])
    unit = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-9)
    position = {label: i for i, label in enumerate(order)}
    scores = np.einsum("ij,ij->i", unit, space.centres[[position[int(x)] for x in labels]])
    return Plan(
        since=since,
        until=until,
        assignments=[
            {"id": r.id, "topic_id": ids[int(labels[i])], "topic_score": float(scores[i])}
            for i, r in enumerate(rows)
        ],
        topics={ids[label]: (list(words.get(label, ())), int((labels == label).sum())) for label in order},
        space=space,
        new_topics=new,
        started=started,
    )


def apply_run(
    sessions: sessionmaker[Session], plan: Plan, *, chunk: int = 2000, pause: float = 0.0
) -> RunSummary:
    """Write a planned run: the topics, then the rows' topics in transactions of `chunk` rows
    (`pause` seconds apart, so a turn never waits long for the write lock), then the run with its
    space, which rows arriving from then on are placed in."""
    now = utcnow()
    with transaction(sessions) as s:
        for topic_id, (words, size) in plan.topics.items():
            topic = s.get(InsightTopic, topic_id)
            if topic is None:
                s.add(InsightTopic(id=topic_id, keywords=words, size=size, created_at=now, updated_at=now))
            else:
                topic.keywords, topic.size, topic.updated_at = words, size, now
    for start in range(0, len(plan.assignments), chunk):
        with transaction(sessions) as s:
            s.execute(update(InsightMessage), plan.assignments[start : start + chunk])
        if pause:
            time.sleep(pause)
    seconds = round(time.perf_counter() - plan.started, 3)
    with transaction(sessions) as s:
        run = InsightRun(
            started_at=now,
            finished_at=utcnow(),
            since=plan.since,
            until=plan.until,
            messages=len(plan.assignments),
            topics=len(plan.topics),
            seconds=seconds,
            space=plan.space.to_bytes(),
        )
        s.add(run)
        s.flush()
        run_id = run.id
    return RunSummary(run_id, len(plan.assignments), len(plan.topics), plan.new_topics, seconds)


def mine_window(
    sessions: sessionmaker[Session], *, since: datetime, until: datetime, k: int | None = None, seed: int = 0
) -> RunSummary | None:
    """`plan_run` then `apply_run` (one thread: the CLI and tests)."""
    plan = plan_run(sessions, since=since, until=until, k=k, seed=seed)
    return apply_run(sessions, plan) if plan is not None else None


def _stable_ids(labels: np.ndarray, previous: Sequence[str | None]) -> tuple[dict[int, str], int]:
    """Each cluster's topic id: inherited from the earlier topic most of its rows had, or new."""
    overlaps: list[tuple[int, int, str]] = []
    sizes = Counter(int(x) for x in labels)
    counts: dict[int, Counter[str]] = {}
    for label, old in zip(labels, previous, strict=True):
        if old:
            counts.setdefault(int(label), Counter())[old] += 1
    for label, c in counts.items():
        for old, n in c.items():
            if n >= INHERIT_SHARE * sizes[label]:
                overlaps.append((n, label, old))
    ids: dict[int, str] = {}
    taken: set[str] = set()
    for _, label, old in sorted(overlaps, reverse=True):
        if label not in ids and old not in taken:
            ids[label] = old
            taken.add(old)
    new = 0
    for label in sorted(sizes):
        if label not in ids:
            ids[label] = new_topic_id()
            new += 1
    return ids, new


def new_topic_id() -> str:
    """A short id for a hotspot link, e.g. `t-3f9a1c`."""
    return f"t-{secrets.token_hex(3)}"
