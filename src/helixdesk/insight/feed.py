"""The durable consumer `insight`: keeps `insight_messages` up to date as conversations happen.

For each conversation an event batch touches, `prepare` (read-only, at idle priority) reads the
conversation's messages, handoffs and rating and computes its rows (`insight.rows`); `handle`
(the short write) inserts the new rows and updates how the old ones went (handed off later,
answer rejected, rated). Rows are stored without vectors: the embedder (`insight.embedder`)
embeds them in the background, so a batch's write never waits for a model. Replaying a batch
after a crash writes the same rows again (the row id is the message's or the rating's).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.models import Conversation, CsatRating, Message
from helixdesk.core.events import Event
from helixdesk.db.session import transaction
from helixdesk.handoff.models import Handoff
from helixdesk.insight.clusters import forget_in_proposals
from helixdesk.insight.models import InsightMessage
from helixdesk.insight.rows import Handover, Msg, Rating, Row, conversation_rows

CONSUMER = "insight"
_OUTCOME = ("handed_off", "queue", "answered", "rejected", "csat", "negative", "intent", "product")


def load_products(pack_path: Path) -> dict[str, str]:
    """The pack's intent -> product map (`insight/products.yaml`); empty when it has none."""
    path = pack_path / "insight" / "products.yaml"
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {intent: str(product) for product, intents in raw.items() for intent in intents or ()}


class InsightFeed:
    def __init__(self, *, products: Mapping[str, str]) -> None:
        self.products = dict(products)
        self._prepared: dict[str, tuple[int, list[Row]]] = {}

    @staticmethod
    def _touched(events: list[Event]) -> dict[str, int]:
        touched: dict[str, int] = {}
        for event in events:
            touched[event.conversation_id] = max(touched.get(event.conversation_id, 0), event.log_seq or 0)
        return touched

    def prepare(self, s: Session, events: list[Event]) -> None:
        self._prepared = {cid: (seq, self.rows(s, cid)) for cid, seq in self._touched(events).items()}

    def handle(self, s: Session, events: list[Event]) -> None:
        for cid, seq in self._touched(events).items():
            ready = self._prepared.pop(cid, None)
            rows = ready[1] if ready is not None and ready[0] >= seq else self.rows(s, cid)
            self.store(s, rows, cid)

    def rows(self, s: Session, conversation_id: str) -> list[Row]:
        """The conversation's insight rows as it stands (none when it is gone)."""
        conv = s.get(Conversation, conversation_id)
        if conv is None:
            return []
        messages = [
            Msg(
                id=m.id,
                seq=m.seq,
                sender=m.sender,
                text=m.text,
                at=m.created_at,
                meta=dict(m.meta or {}),
                in_reply_to=m.in_reply_to,
            )
            for m in s.scalars(select(Message).where(Message.conversation_id == conversation_id))
        ]
        handovers = [
            Handover(queue=h.queue, at=h.created_at, disposition=h.disposition)
            for h in s.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id))
        ]
        rated = s.scalar(select(CsatRating).where(CsatRating.conversation_id == conversation_id))
        rating = (
            Rating(
                id=rated.id,
                score=rated.score,
                comment=rated.comment,
                nlu=dict(rated.nlu or {}),
                at=rated.created_at,
            )
            if rated is not None
            else None
        )
        return conversation_rows(
            channel=conv.channel,
            language=conv.language,
            messages=messages,
            handovers=handovers,
            rating=rating,
            closed=conv.state == "closed",
            products=self.products,
        )

    def store(self, s: Session, rows: list[Row], conversation_id: str | None = None) -> None:
        if not rows:
            return
        existing = {
            r.id: r
            for r in s.scalars(select(InsightMessage).where(InsightMessage.id.in_([r.id for r in rows])))
        }
        for row in rows:
            stored = existing.get(row.id)
            if stored is None:
                s.add(_new(row, conversation_id))
                continue
            for name in _OUTCOME:
                value = getattr(row, name)
                if getattr(stored, name) != value:
                    setattr(stored, name, value)


def _new(row: Row, conversation_id: str | None) -> InsightMessage:
    values: dict[str, Any] = {
        "id": row.id,
        "source": row.source,
        "channel": row.channel,
        "language": row.language,
        "text": row.text,
        "at": row.at,
        **{name: getattr(row, name) for name in _OUTCOME},
    }
    return InsightMessage(conversation_id=conversation_id, **values)


def forget_anonymised(sessions: sessionmaker[Session], *, batch: int = 500) -> int:
    """Clear the text and vectors of rows whose conversation retention has anonymised (their
    figures, topic and time stay for the trends), and drop those conversations from proposals'
    sources; returns how many rows. Erasing a customer deletes their conversations, and their rows
    with them (a foreign key); `helixdesk customers erase` drops them from proposals."""
    done = 0
    while True:
        with transaction(sessions) as s:
            found = s.execute(
                select(InsightMessage.id, InsightMessage.conversation_id)
                .join(Conversation, Conversation.id == InsightMessage.conversation_id)
                .where(Conversation.anonymised_at.is_not(None), InsightMessage.text != "")
                .limit(batch)
            ).all()
            if not found:
                return done
            ids = [r.id for r in found]
            forget_in_proposals(s, {r.conversation_id for r in found if r.conversation_id})
            s.execute(
                update(InsightMessage)
                .where(InsightMessage.id.in_(ids))
                .values(text="", vector=None, intents=None)
            )
            done += len(ids)
