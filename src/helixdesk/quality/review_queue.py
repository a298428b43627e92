"""The review queue: the stable random sample of closed conversations (`in_sample`, marked on
`Scorecard.sampled`), and the conversations waiting for review (findings pending, or sampled) or
already reviewed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helixdesk.auth.service import staff_names
from helixdesk.conversations.models import Conversation
from helixdesk.core.sampling import in_stable_sample
from helixdesk.quality.models import Finding, Scorecard, Verdict
from helixdesk.quality.review_common import iso_time

MAX_QUEUE = 200
# Highest first; a severity the engine adds later sorts after these.
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def in_sample(conversation_id: str, percent: float) -> bool:
    """Whether a conversation is in the random review sample: the same answer every time."""
    return in_stable_sample(f"qa-sample:{conversation_id}", percent)


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One conversation waiting for review: `flagged` (findings pending) and/or `sampled`."""

    conversation_id: str
    flagged: bool
    sampled: bool
    pending: int
    severity: str | None
    findings: int
    score: float | None
    agent_id: str | None
    agent_name: str | None
    team: str | None
    channel: str | None
    language: str | None
    final: bool
    review_score: float | None
    reviewed_at: str | None
    updated_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mark_sampled(s: Session, *, percent: float, since: datetime) -> int:
    """Mark the closed conversations scored since `since`, not reviewed yet, that fall in the sample
    of `percent` (`Scorecard.sampled`); returns how many were newly marked. Idempotent."""
    ids = s.scalars(
        select(Scorecard.conversation_id).where(
            Scorecard.final.is_(True),
            Scorecard.sampled.is_(False),
            Scorecard.reviewed_at.is_(None),
            Scorecard.updated_at >= since,
        )
    ).all()
    chosen = [i for i in ids if in_sample(i, percent)]
    for start in range(0, len(chosen), 500):
        s.execute(
            update(Scorecard)
            .where(Scorecard.conversation_id.in_(chosen[start : start + 500]))
            .values(sampled=True)
        )
    return len(chosen)


def queue_items(s: Session, *, done: bool, limit: int, tz: tzinfo) -> list[QueueItem]:
    """Conversations to review: flagged ones (findings pending) first, the most severe first,
    then the sampled ones not reviewed yet, newest first. `done`: the reviewed ones instead,
    most recently reviewed first. Times in `tz`."""
    pending: dict[str, tuple[int, int, datetime | None]] = {}
    if not done:
        rows = s.execute(
            select(
                Finding.conversation_id,
                Finding.severity,
                func.count(),
                func.max(Finding.created_at),
            )
            .where(Finding.verdict == Verdict.PENDING.value)
            .group_by(Finding.conversation_id, Finding.severity)
        ).all()
        for cid, severity, count, last in rows:
            n, rank, newest = pending.get(cid, (0, 99, None))
            pending[cid] = (
                n + count,
                min(rank, SEVERITY_RANK.get(severity, 9)),
                max(newest, last) if newest and last else newest or last,
            )
        sampled = s.scalars(
            select(Scorecard)
            .where(Scorecard.sampled.is_(True), Scorecard.reviewed_at.is_(None))
            .order_by(Scorecard.updated_at.desc())
            .limit(MAX_QUEUE * 5)
        ).all()
        cards = {c.conversation_id: c for c in sampled}
        missing = [cid for cid in pending if cid not in cards]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for c in s.scalars(select(Scorecard).where(Scorecard.conversation_id.in_(chunk))):
                cards[c.conversation_id] = c
        ids = set(pending) | set(cards)
    else:
        reviewed = s.scalars(
            select(Scorecard)
            .where(Scorecard.reviewed_at.is_not(None))
            .order_by(Scorecard.reviewed_at.desc())
            .limit(limit)
        ).all()
        cards = {c.conversation_id: c for c in reviewed}
        ids = set(cards)
    convs: dict[str, Conversation] = {}
    id_list = sorted(ids)
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        for conv in s.scalars(select(Conversation).where(Conversation.id.in_(chunk))):
            convs[conv.id] = conv
    totals: dict[str, int] = {}
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        for cid, count in s.execute(
            select(Finding.conversation_id, func.count())
            .where(Finding.conversation_id.in_(chunk))
            .group_by(Finding.conversation_id)
        ):
            totals[cid] = count
    names = staff_names(s, (c.agent_id for c in cards.values()))
    items: list[tuple[QueueItem, datetime | None]] = []
    for cid in ids:
        card = cards.get(cid)
        known = convs.get(cid)
        count, rank, newest = pending.get(cid, (0, 99, None))
        updated = card.updated_at if card is not None else newest
        item = QueueItem(
            conversation_id=cid,
            flagged=count > 0,
            sampled=bool(card and card.sampled),
            pending=count,
            severity=next((k for k, v in SEVERITY_RANK.items() if v == rank), None) if count else None,
            findings=totals.get(cid, 0),
            score=card.score if card else None,
            agent_id=card.agent_id if card else None,
            agent_name=names.get(card.agent_id or "") if card else None,
            team=card.team if card else None,
            channel=card.channel if card else known.channel if known else None,
            language=card.language if card else known.language if known else None,
            final=bool(card and card.final),
            review_score=card.review_score if card else None,
            reviewed_at=iso_time(card.reviewed_at, tz) if card else None,
            updated_at=iso_time(updated, tz),
        )
        items.append((item, card.reviewed_at if done and card else updated))
    # Newest first; the queue puts flagged before sampled, then the most severe, the most findings.
    oldest = datetime.min.replace(tzinfo=UTC)
    items.sort(key=lambda x: x[1] or oldest, reverse=True)
    if not done:
        items.sort(key=lambda x: (not x[0].flagged, SEVERITY_RANK.get(x[0].severity or "", 9), -x[0].pending))
    return [item for item, _ in items[:limit]]
