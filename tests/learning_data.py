"""Learning-loop data written straight into the tables, as the conversation writer stores it:
conversations whose customer messages carry the bot's (masked) NLU record, and the people who
label them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from helixdesk.conversations.models import Conversation, Customer, Message
from helixdesk.core.clock import utcnow

Line = tuple[str, str] | tuple[str, str, str, float]


def nlu(
    text: str, intent: str, confidence: float, *, emotion: str = "neutral", entities: Any = ()
) -> dict[str, Any]:
    """An NLU record as `masked_nlu` stores it (the masked text, the intent, its ranking, ...)."""
    return {
        "text": text,
        "normalized": text.lower(),
        "language": "zh-Hans",
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": list(entities),
        "emotion": {"label": emotion, "intensity": 0.2, "scores": {emotion: 0.8}},
        "risk": [],
    }


def add_conversation(
    s: Session, lines: list[Line], *, minutes_ago: int = 60
) -> tuple[Conversation, list[Message]]:
    """A closed web conversation: lines are (sender, text) or, for understood customer messages,
    ("customer", text, intent, confidence)."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    customer = Customer(language="zh-Hans")
    s.add(customer)
    s.flush()
    conv = Conversation(
        customer_id=customer.id,
        channel="web",
        state="closed",
        language="zh-Hans",
        last_seq=len(lines),
        created_at=at,
        updated_at=at,
        closed_at=at + timedelta(minutes=5),
    )
    s.add(conv)
    s.flush()
    messages = []
    for seq, line in enumerate(lines, start=1):
        sender, text = line[0], line[1]
        meta = {"nlu": nlu(text, line[2], line[3])} if len(line) == 4 else {}
        m = Message(
            conversation_id=conv.id,
            seq=seq,
            sender=sender,
            text=text,
            meta=meta,
            created_at=at + timedelta(seconds=seq),
        )
        s.add(m)
        messages.append(m)
    s.flush()
    return conv, messages
