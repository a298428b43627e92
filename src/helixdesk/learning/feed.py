"""The durable consumer `learning`: samples customer messages into the labelling queue as
conversations happen (`helixdesk learning run`; `helixdesk serve` starts it as a child process).

For each conversation a batch of events touches (a customer message, the bot's reply, a handover),
`prepare` (read-only, at idle priority) reads its messages and works out which
messages are sampled and why (`learning.sampling`); `handle` (the short write) adds the new items
and the new reasons of old ones. The items point at the stored messages, which are masked: the
queue never holds more of the customer's words than the transcript does. Replaying a batch after a
crash changes nothing (one item per message).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.conversations.models import Conversation, Message
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event
from helixdesk.learning.models import LabelItem
from helixdesk.learning.sampling import (
    Corrections,
    Msg,
    SamplingRates,
    candidate_reasons,
    needs_two,
    sampled_reasons,
)

CONSUMER = "learning"
_TYPES = frozenset({"message.received", "reply.sent", "handoff.queued"})


@dataclass(frozen=True, slots=True)
class Planned:
    """A message to be in the queue, with its reasons."""

    message_id: str
    seq: int
    language: str | None
    reasons: tuple[str, ...]
    intent: str | None
    confidence: float | None
    needs: int


class LabellingFeed:
    def __init__(self, *, rates: SamplingRates, corrections: Corrections, double_percent: float) -> None:
        self.rates = rates
        self.corrections = corrections
        self.double_percent = double_percent
        self._prepared: dict[str, tuple[int, list[Planned]]] = {}

    @staticmethod
    def _touched(events: list[Event]) -> dict[str, int]:
        touched: dict[str, int] = {}
        for event in events:
            if event.type in _TYPES:
                cid = event.conversation_id
                touched[cid] = max(touched.get(cid, 0), event.log_seq or 0)
        return touched

    def prepare(self, s: Session, events: list[Event]) -> None:
        self._prepared = {cid: (seq, self.plan(s, cid)) for cid, seq in self._touched(events).items()}

    def handle(self, s: Session, events: list[Event]) -> None:
        for cid, seq in self._touched(events).items():
            ready = self._prepared.pop(cid, None)
            planned = ready[1] if ready is not None and ready[0] >= seq else self.plan(s, cid)
            store(s, cid, planned)

    def plan(self, s: Session, conversation_id: str) -> list[Planned]:
        """The conversation's messages that belong in the queue as it stands."""
        conv = s.get(Conversation, conversation_id)
        if conv is None:
            return []
        rows = s.execute(
            select(
                Message.id, Message.seq, Message.sender, Message.text, Message.created_at, Message.meta
            ).where(Message.conversation_id == conversation_id)
        ).all()
        messages = [
            Msg(
                r.id,
                r.seq,
                r.sender,
                r.text,
                r.created_at,
                (r.meta or {}).get("nlu"),
                (r.meta or {}).get("kind"),
            )
            for r in rows
        ]
        found = candidate_reasons(messages, self.corrections, confidence_below=self.rates.confidence_below)
        by_id = {m.id: m for m in messages}
        planned: list[Planned] = []
        for mid, reasons in found.items():
            chosen = sampled_reasons(mid, reasons, self.rates)
            if not chosen:
                continue
            m = by_id[mid]
            intent, confidence = m.intent
            language = (m.nlu or {}).get("language") or conv.language
            planned.append(
                Planned(
                    message_id=mid,
                    seq=m.seq,
                    language=str(language) if language else None,
                    reasons=tuple(chosen),
                    intent=intent,
                    confidence=confidence,
                    needs=2 if needs_two(mid, self.double_percent) else 1,
                )
            )
        return planned


def store(s: Session, conversation_id: str, planned: list[Planned]) -> None:
    """Add the planned items that are new; give old ones the reasons they did not have yet."""
    if not planned:
        return
    existing = {
        i.message_id: i
        for i in s.scalars(select(LabelItem).where(LabelItem.message_id.in_([p.message_id for p in planned])))
    }
    now = utcnow()
    for p in planned:
        item = existing.get(p.message_id)
        if item is None:
            s.add(
                LabelItem(
                    message_id=p.message_id,
                    conversation_id=conversation_id,
                    seq=p.seq,
                    language=p.language,
                    reason=p.reasons[0],
                    reasons=list(p.reasons),
                    predicted_intent=p.intent,
                    confidence=p.confidence,
                    needs=p.needs,
                    created_at=now,
                    updated_at=now,
                )
            )
            continue
        more = [r for r in p.reasons if r not in item.reasons]
        if more:
            item.reasons = [*item.reasons, *more]
            item.updated_at = now
