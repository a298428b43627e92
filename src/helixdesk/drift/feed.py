"""The durable consumer `drift`: adds each customer message the bot understood to its day's figures.

A customer message is understood in its bot turn, whose transaction stores the NLU record on the
message together with the bot's replies and their `reply.sent` events. The message is counted
when the consumer meets the event of its *first* reply (the lowest sequence number among the
replies to it), so it is counted once however the batches fall, and a replayed batch (after a
crash, from the stored offset) counts nothing twice: the offset moves in the same transaction as
the figures. History imported with its events (`conversations.history.import_past`) is counted
the same way.

What a message adds (`Understood`): its day in the bank's time zone, its language (the NLU's when
it is one of the three, else the conversation's), its intent (out of scope or not), the
confidence of the intent model's best reading, and its vocabulary tokens (`drift.vocabulary`, from
the stored, masked text). Messages without an intent (an image without words) are not counted.

`prepare` (read-only, at idle priority) reads the messages and cuts their tokens; `handle` (the
short write) adds the sums to `drift_days` and the token counts to `drift_tokens`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from helixdesk.conversations.models import Conversation, Message
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event, ReplySent
from helixdesk.core.languages import LANGUAGES, language_or_default
from helixdesk.drift.models import DriftDay, DriftToken
from helixdesk.drift.vocabulary import tokens
from helixdesk.nlu.intent.data import OOS_LABEL

CONSUMER = "drift"


@dataclass(frozen=True, slots=True)
class Understood:
    day: date
    language: str
    intent: str
    confidence: float | None
    tokens: tuple[str, ...]


def understood(
    text: str, meta: Mapping[str, Any], at: datetime, conversation_language: str | None, tz: tzinfo
) -> Understood | None:
    """What one stored customer message adds to the figures (None: it has no NLU intent)."""
    nlu = meta.get("nlu")
    if not isinstance(nlu, Mapping):
        return None
    intent = nlu.get("intent")
    if not isinstance(intent, Mapping) or not intent.get("name"):
        return None
    name = str(intent["name"])
    language = nlu.get("language")
    if language not in LANGUAGES:
        language = language_or_default(conversation_language)
    return Understood(
        day=at.astimezone(tz).date(),
        language=str(language),
        intent=name,
        confidence=best_confidence(nlu),
        tokens=() if meta.get("redacted") else tuple(tokens(text)),
    )


def best_confidence(nlu: Mapping[str, Any]) -> float | None:
    """The intent model's confidence in its best reading: the top of the ranking (an out-of-scope
    intent carries 1 - that), else the intent's own when it is in scope; None when not recorded."""
    ranking = nlu.get("intent_ranking")
    if isinstance(ranking, Sequence) and ranking and isinstance(ranking[0], Mapping):
        value = ranking[0].get("confidence")
        if isinstance(value, int | float):
            return float(value)
    intent = nlu.get("intent")
    if isinstance(intent, Mapping) and intent.get("name") != OOS_LABEL:
        value = intent.get("confidence")
        if isinstance(value, int | float):
            return float(value)
    return None


@dataclass(slots=True)
class Sums:
    messages: int = 0
    oos: int = 0
    scored: int = 0
    confidence_sum: float = 0.0
    confidence_squares: float = 0.0
    tokens: int = 0

    def add(self, u: Understood) -> None:
        self.messages += 1
        self.oos += u.intent == OOS_LABEL
        if u.confidence is not None:
            self.scored += 1
            self.confidence_sum += u.confidence
            self.confidence_squares += u.confidence * u.confidence
        self.tokens += len(u.tokens)


@dataclass(slots=True)
class Increments:
    """What a batch adds, per (day, language)."""

    sums: dict[tuple[date, str], Sums]
    intents: dict[tuple[date, str], Counter[str]]
    tokens: Counter[tuple[date, str, str]]

    @classmethod
    def of(cls, messages: Sequence[Understood]) -> Increments:
        out = cls(sums={}, intents={}, tokens=Counter())
        for u in messages:
            key = (u.day, u.language)
            out.sums.setdefault(key, Sums()).add(u)
            out.intents.setdefault(key, Counter())[u.intent] += 1
            out.tokens.update((u.day, u.language, t) for t in u.tokens)
        return out


class DriftFeed:
    def __init__(self, *, tz: tzinfo) -> None:
        self.tz = tz
        self._prepared: tuple[tuple[int, int], Increments] | None = None

    @staticmethod
    def _span(events: Sequence[Event]) -> tuple[int, int]:
        return (events[0].log_seq or 0, events[-1].log_seq or 0) if events else (0, 0)

    def prepare(self, s: Session, events: list[Event]) -> None:
        self._prepared = (self._span(events), self.increments(s, events))

    def handle(self, s: Session, events: list[Event]) -> None:
        prepared, self._prepared = self._prepared, None
        if prepared is not None and prepared[0] == self._span(events):
            increments = prepared[1]
        else:
            increments = self.increments(s, events)
        store(s, increments)

    def increments(self, s: Session, events: Sequence[Event]) -> Increments:
        """The messages whose first reply is among `events`, as what they add."""
        first_here: dict[str, int] = {}
        for event in events:
            if isinstance(event, ReplySent) and event.message.in_reply_to:
                asked = event.message.in_reply_to
                first_here[asked] = min(first_here.get(asked, event.message.seq), event.message.seq)
        if not first_here:
            return Increments.of(())
        reply = aliased(Message)
        first_reply = select(func.min(reply.seq)).where(reply.in_reply_to == Message.id).scalar_subquery()
        found: list[Understood] = []
        ids = list(first_here)
        for start in range(0, len(ids), 500):
            rows = s.execute(
                select(
                    Message.id,
                    Message.text,
                    Message.meta,
                    Message.created_at,
                    Conversation.language,
                    first_reply,
                )
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.id.in_(ids[start : start + 500]), Message.sender == "customer")
            ).all()
            for message_id, text, meta, at, language, first in rows:
                if first != first_here[message_id]:
                    continue  # counted with an earlier batch's reply
                u = understood(text, meta or {}, at, language, self.tz)
                if u is not None:
                    found.append(u)
        return Increments.of(found)


def store(s: Session, inc: Increments) -> None:
    """Add a batch's increments to the stored figures (inside the consumer's write transaction)."""
    if not inc.sums:
        return
    now = utcnow()
    existing = {
        (row.day, row.language): row
        for row in s.scalars(
            select(DriftDay).where(DriftDay.day.in_({d for d, _ in inc.sums})).with_for_update()
        )
    }
    for key, add in inc.sums.items():
        row = existing.get(key)
        if row is None:
            row = DriftDay(
                day=key[0],
                language=key[1],
                messages=0,
                oos=0,
                scored=0,
                confidence_sum=0.0,
                confidence_squares=0.0,
                tokens=0,
                intents={},
            )
            s.add(row)
        row.messages += add.messages
        row.oos += add.oos
        row.scored += add.scored
        row.confidence_sum += add.confidence_sum
        row.confidence_squares += add.confidence_squares
        row.tokens += add.tokens
        merged = Counter(row.intents or {})
        merged.update(inc.intents[key])
        row.intents = dict(merged)
        row.updated_at = now
    s.flush()
    if inc.tokens:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(DriftToken)
        statement = statement.on_conflict_do_update(
            index_elements=["day", "language", "token"],
            set_={"count": DriftToken.count + statement.excluded.count},
        )
        s.execute(
            statement,
            [{"day": d, "language": lang, "token": t, "count": c} for (d, lang, t), c in inc.tokens.items()],
        )
