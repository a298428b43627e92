"""The durable consumer `analytics`, and the rebuild from the source tables.

For each conversation an event batch touches (and, when a conversation starts, the same customer's
conversations of the week before it, whose first-contact resolution it may change), `prepare`
computes the facts read-only, outside the write transaction, at idle priority; `handle` writes the
facts that changed and their differences to the rollups in the short write. Replaying a batch after
a crash computes the same facts, which then change nothing.

`rebuild(sessions, tz)` recomputes every fact from the source tables and the rollups from the
facts. It holds the consumer's lease meanwhile (the consumer waits), and leaves the consumer's
offset where the rebuild began, so events stored meanwhile are applied again on top.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta, tzinfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.analytics.facts import Fact
from helixdesk.analytics.models import AnalyticsFact
from helixdesk.analytics.rollup import rewrite_rollups, store_facts, to_row
from helixdesk.analytics.source import earlier_of_same_customers, load_facts
from helixdesk.bus.consumer import ConsumerOffset
from helixdesk.bus.outbox import last_log_seq
from helixdesk.conversations.models import Conversation
from helixdesk.core.events import ConversationCreated, Event
from helixdesk.db.lease import release, try_acquire
from helixdesk.db.session import reading, transaction

CONSUMER = "analytics"


class AnalyticsFeed:
    def __init__(self, *, tz: tzinfo) -> None:
        self.tz = tz
        self._prepared: dict[str, tuple[int, Fact | None]] = {}
        # A new conversation's customer's conversations of the week before, read by `prepare` so
        # that the write transaction does not read them again.
        self._earlier: dict[str, set[str]] = {}

    def _touched(self, s: Session, events: list[Event]) -> dict[str, int]:
        touched: dict[str, int] = {}
        for event in events:
            touched[event.conversation_id] = max(touched.get(event.conversation_id, 0), event.log_seq or 0)
        started = [e.conversation_id for e in events if isinstance(e, ConversationCreated)]
        if started:
            newest = max(touched.values())
            for new in started:
                if new not in self._earlier:
                    self._earlier[new] = earlier_of_same_customers(s, [new])
                for cid in self._earlier[new]:
                    touched[cid] = max(touched.get(cid, 0), newest)
        return touched

    def prepare(self, s: Session, events: list[Event]) -> None:
        self._earlier = {}
        touched = self._touched(s, events)
        facts = load_facts(s, list(touched), tz=self.tz)
        self._prepared = {cid: (seq, facts.get(cid)) for cid, seq in touched.items()}

    def handle(self, s: Session, events: list[Event]) -> None:
        touched = self._touched(s, events)
        ready: dict[str, Fact | None] = {}
        stale: list[str] = []
        for cid, seq in touched.items():
            prepared = self._prepared.pop(cid, None)
            if prepared is not None and prepared[0] >= seq:
                ready[cid] = prepared[1]
            else:
                stale.append(cid)
        if stale:
            fresh = load_facts(s, stale, tz=self.tz)
            ready.update({cid: fresh.get(cid) for cid in stale})
        store_facts(s, ready)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    conversations: int
    seconds: float


def rebuild(
    sessions: sessionmaker[Session], *, tz: tzinfo, batch: int = 2000, holder: str = "rebuild"
) -> Rebuilt:
    """Recompute every fact from the source tables, then the rollups from the facts."""
    began = time.perf_counter()
    lease = f"consumer:{CONSUMER}"
    with transaction(sessions) as s:
        if not try_acquire(s, lease, holder, ttl=timedelta(hours=6)):
            raise RuntimeError("the analytics consumer is running elsewhere; try again in a moment")
        start_seq = last_log_seq(s)
    try:
        done = 0
        after = ""
        while True:
            with reading(sessions) as s:
                ids = list(
                    s.scalars(
                        select(Conversation.id)
                        .where(Conversation.id > after)
                        .order_by(Conversation.id)
                        .limit(batch)
                    )
                )
                if not ids:
                    break
                facts = load_facts(s, ids, tz=tz)
            with transaction(sessions) as s:
                s.execute(delete(AnalyticsFact).where(AnalyticsFact.conversation_id.in_(ids)))
                if facts:
                    s.execute(insert(AnalyticsFact), [to_row(f) for f in facts.values()])
            done += len(facts)
            after = ids[-1]
        with transaction(sessions) as s:
            # Facts of conversations deleted meanwhile go with them (a foreign key); the rollups
            # are the sums of what is left.
            rewrite_rollups(s)
            offset = s.get(ConsumerOffset, CONSUMER, with_for_update=True)
            if offset is None:
                s.add(ConsumerOffset(consumer=CONSUMER, log_seq=start_seq))
            else:
                offset.log_seq = start_seq
        return Rebuilt(conversations=done, seconds=time.perf_counter() - began)
    finally:
        with transaction(sessions) as s:
            release(s, lease, holder)


def fact_count(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(AnalyticsFact)) or 0)
