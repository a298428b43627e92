"""A proposal's cluster, as both proposals and their effect read it: the similarity that joins a
question to it (`JOIN`), its space, centre and members packed into one blob, the rows' intent
probabilities stacked, and a proposal as the API shows it."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.insight.models import InsightProposal
from helixdesk.insight.space import Space

# Two groups of questions join when their mean cosine (insight features) is at least this; a question
# is near an approved proposal's cluster when its cosine to the centre is.
JOIN = 0.4


def stack_intents(rows: Sequence[Any]) -> np.ndarray | None:
    blobs = [r.intents for r in rows]
    if any(b is None for b in blobs):
        return None
    arrays = [b if isinstance(b, np.ndarray) else np.frombuffer(b, dtype=np.float32) for b in blobs]
    if len({a.shape for a in arrays}) != 1:
        return None
    return np.stack(arrays)


def pack(space: Space, centre: np.ndarray, members: Sequence[str]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(
        buf, space=np.frombuffer(space.to_bytes(), dtype=np.uint8), centre=centre, members=np.asarray(members)
    )
    return buf.getvalue()


def unpack(data: bytes) -> tuple[Space, np.ndarray, set[str]]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return Space.from_bytes(z["space"].tobytes()), z["centre"], {str(x) for x in z["members"]}


def aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def proposal_dict(p: InsightProposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "topic_id": p.topic_id,
        "status": p.status,
        "questions": dict(p.questions),
        "answers": dict(p.answers),
        "sources": list(p.sources),
        "examples": list(p.examples),
        "volume": p.volume,
        "draft_ids": list(p.draft_ids),
        "created_at": p.created_at,
        "decided_at": p.decided_at,
    }


def forget_in_proposals(s: Session, conversation_ids: Iterable[str]) -> int:
    """Drop these conversations' questions and replies from every proposal's sources and examples
    (a customer erased, or a conversation retention anonymised); returns how many proposals changed."""
    gone = set(conversation_ids)
    if not gone:
        return 0
    changed = 0
    for proposal in s.scalars(select(InsightProposal)):
        sources = [x for x in proposal.sources if x.get("conversation_id") not in gone]
        examples = [x for x in proposal.examples if x.get("conversation_id") not in gone]
        if len(sources) != len(proposal.sources) or len(examples) != len(proposal.examples):
            proposal.sources, proposal.examples = sources, examples
            changed += 1
    return changed
