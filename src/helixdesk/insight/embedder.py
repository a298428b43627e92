"""Vectors for insight rows, computed once as rows arrive, in the background.

`Vectoriser` turns texts into what topics are mined on: multilingual-e5-small "query:" vectors
and the pack's intent probabilities. `embed_pending` takes the rows stored without vectors (chat
messages from the `insight` consumer, CSAT comments, imported feedback), computes their vectors
(the caller runs it at idle CPU priority), places them in the latest mining run's topics, and
stores both in one short transaction. A daily mining run then only clusters stored vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.db.session import reading, transaction
from helixdesk.insight.models import InsightMessage, InsightRun
from helixdesk.insight.space import Space, style_of
from helixdesk.insight.topics import embed_messages

log = logging.getLogger(__name__)

IntentProbabilities = Callable[[Sequence[str]], np.ndarray]


def intent_reader(model_dir: Path) -> IntentProbabilities | None:
    """The pack's intent model as probabilities per text, or None when none is trained."""
    from helixdesk.nlu.intent.artefacts import ModelArtefactError, load_model

    try:
        model, _ = load_model(model_dir)
    except ModelArtefactError as e:  # no model trained: mine on the embeddings alone
        log.warning("insight mines without intent probabilities: %s", e.detail)
        return None

    def read(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(model.predict_proba(list(texts)), dtype=np.float32)

    return read


@dataclass
class Vectoriser:
    intents: IntentProbabilities | None = None

    def __call__(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        vectors = embed_messages(texts)
        probabilities = self.intents(texts) if self.intents is not None and texts else None
        return vectors, probabilities


def latest_space(s: Session) -> tuple[int, Space | None]:
    """The latest finished mining run's id and space (0, None before the first run)."""
    run = s.scalar(
        select(InsightRun).where(InsightRun.space.is_not(None)).order_by(InsightRun.id.desc()).limit(1)
    )
    if run is None or run.space is None:
        return 0, None
    return run.id, Space.from_bytes(run.space)


@dataclass(frozen=True)
class Embedded:
    """Rows' vectors and places, computed outside any transaction, for `store_embedded`."""

    ids: list[str]
    vectors: np.ndarray
    intents: np.ndarray | None
    placed: list[tuple[str, float]]


def embed_next(sessions: sessionmaker[Session], vectorise: Vectoriser, *, limit: int = 64) -> Embedded | None:
    """Read up to `limit` rows stored without vectors and compute their vectors and topics (no
    write: run it at idle priority); None when every row has its vector."""
    with reading(sessions) as s:
        pending = s.execute(
            select(
                InsightMessage.id,
                InsightMessage.text,
                InsightMessage.language,
                InsightMessage.source,
                InsightMessage.channel,
            )
            .where(InsightMessage.vector.is_(None), InsightMessage.text != "")
            .order_by(InsightMessage.at)
            .limit(limit)
        ).all()
        _, space = latest_space(s)
    if not pending:
        return None
    languages = [p.language for p in pending]
    vectors, intents = vectorise([p.text for p in pending])
    styles = [style_of(p.source, p.channel) for p in pending]
    placed = (
        space.place(vectors, intents, languages, styles) if space is not None and space.fits(intents) else []
    )
    return Embedded([p.id for p in pending], vectors, intents, placed)


def store_embedded(sessions: sessionmaker[Session], done: Embedded) -> int:
    """Store what `embed_next` computed, in one short transaction; returns how many rows."""
    params = []
    for i, row_id in enumerate(done.ids):
        values: dict[str, object] = {
            "id": row_id,
            "vector": done.vectors[i].astype(np.float32).tobytes(),
            "intents": done.intents[i].astype(np.float32).tobytes() if done.intents is not None else None,
        }
        if done.placed:
            values["topic_id"], values["topic_score"] = done.placed[i]
        params.append(values)
    with transaction(sessions) as s:
        present = set(s.scalars(select(InsightMessage.id).where(InsightMessage.id.in_(done.ids))))
        rows = [p for p in params if p["id"] in present]  # a row erased meanwhile stays erased
        if rows:
            s.execute(update(InsightMessage), rows)
    return len(done.ids)


def embed_pending(sessions: sessionmaker[Session], vectorise: Vectoriser, *, limit: int = 64) -> int:
    """`embed_next` then `store_embedded` (one thread; tests and the CLI)."""
    done = embed_next(sessions, vectorise, limit=limit)
    return store_embedded(sessions, done) if done is not None else 0
