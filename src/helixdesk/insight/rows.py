"""What one conversation contributes to insight: a row per customer question or complaint, and one
for the comment of its rating. Pure: the conversation's stored facts in, rows out.

A customer message becomes a row unless it says nothing about a topic: a greeting, thanks, a
goodbye, asking for a person, a one-time code, or the answer to the bot's own question (a card's
last digits, "yes"). Each row says how the message went:

- `answered`: the bot's replies to it. False when the bot said it did not know or did not
  understand (`fallback`), or when the agent wrapped the conversation up as a knowledge gap; True
  when it answered (from knowledge or by an action); None when it was not the bot's to answer (a
  person had the conversation).
- `handed_off` / `queue`: the conversation went to a person (at or after this message, or it was
  with one already), and to which queue (the handoff's, or the one the handoff message or the
  person's message names, for imported history).
- `rejected`: the bot answered from knowledge, and the customer's next message asked for a person,
  complained, or was negative.
- `negative`: the NLU read a negative emotion (anger, disgust, fear, sadness).
- `csat`: the conversation's rating.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from helixdesk.core.languages import LANGUAGES
from helixdesk.nlu.emotion.data import NEGATIVE

# Intents that carry no topic of their own.
SKIPPED_INTENTS = frozenset({"greeting", "goodbye", "praise", "human_agent"})
KNOWLEDGE_GAP = "knowledge_gap"
# What the customer says after an answer that means it did not help.
_REJECTING_INTENTS = frozenset({"human_agent", "complaint"})


@dataclass(frozen=True, slots=True)
class Msg:
    id: str
    seq: int
    sender: str
    text: str
    at: datetime
    meta: Mapping[str, Any]
    in_reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class Handover:
    queue: str
    at: datetime
    disposition: str | None = None  # the agent's wrap-up; `knowledge_gap`: the bot lacked the answer


@dataclass(frozen=True, slots=True)
class Rating:
    id: str
    score: int
    comment: str
    nlu: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    source: str
    channel: str
    language: str
    text: str
    at: datetime
    intent: str | None
    product: str | None
    negative: bool
    handed_off: bool = False
    queue: str | None = None
    answered: bool | None = None
    rejected: bool = False
    csat: int | None = None


def conversation_rows(
    *,
    channel: str,
    language: str | None,
    messages: Sequence[Msg],
    handovers: Sequence[Handover],
    rating: Rating | None,
    closed: bool,
    products: Mapping[str, str],
) -> list[Row]:
    """The insight rows of one conversation as it stands now (the same facts give the same rows)."""
    rows: list[Row] = []
    ordered = sorted(messages, key=lambda m: m.seq)
    last_seq = ordered[-1].seq if ordered else 0
    handovers = sorted(handovers, key=lambda h: h.at)
    csat = rating.score if rating is not None else None
    previous_bot: Msg | None = None
    for i, m in enumerate(ordered):
        if m.sender == "bot":
            previous_bot = m
            continue
        if m.sender != "customer":
            continue
        nlu = m.meta.get("nlu")
        if not isinstance(nlu, Mapping):
            # Not understood yet (its turn is running): wait. Said to a person ("ok", "thanks",
            # details they asked for): not a question of its own.
            if (m.seq == last_seq and not closed) or any(h.at <= m.at for h in handovers):
                continue
            if any(n.sender == "agent" for n in ordered[:i]):
                continue
            nlu = {}
        if _says_nothing(m, nlu, previous_bot):
            continue
        intent = _intent(nlu)
        replies = [r for r in ordered if r.in_reply_to == m.id]
        later = ordered[i + 1 :]
        handover = _queue_of(m, ordered, handovers)
        answered = _answered(replies)
        if answered is not True and any(h.disposition == KNOWLEDGE_GAP for h in handovers):
            answered = False  # the agent reported that the knowledge base lacks the answer
        rows.append(
            Row(
                id=m.id,
                source="chat",
                channel=channel,
                language=_language(nlu, language),
                text=m.text,
                at=m.at,
                intent=intent,
                product=products.get(intent) if intent else None,
                negative=_negative(nlu),
                handed_off=handover is not None,
                queue=handover,
                answered=answered,
                rejected=bool(answered) and _rejected(replies, later),
                csat=csat,
            )
        )
    if rating is not None and rating.comment.strip():
        intent = _intent(rating.nlu)
        rows.append(
            Row(
                id=rating.id,
                source="csat",
                channel=channel,
                language=_language(rating.nlu, language),
                text=rating.comment,
                at=rating.at,
                intent=intent,
                product=products.get(intent) if intent else None,
                negative=_negative(rating.nlu) or rating.score <= 2,
                handed_off=bool(handovers),
                queue=handovers[0].queue if handovers else None,
                csat=rating.score,
            )
        )
    return rows


def _language(nlu: Mapping[str, Any], conversation: str | None) -> str:
    """The message's language when the NLU read one of the three, else the conversation's."""
    found = nlu.get("language")
    if found in LANGUAGES:
        return str(found)
    return conversation if conversation in LANGUAGES else "en"


def _intent(nlu: Mapping[str, Any]) -> str | None:
    intent = nlu.get("intent")
    return str(intent["name"]) if isinstance(intent, Mapping) and intent.get("name") else None


def _negative(nlu: Mapping[str, Any]) -> bool:
    emotion = nlu.get("emotion")
    return isinstance(emotion, Mapping) and emotion.get("label") in NEGATIVE


def _says_nothing(m: Msg, nlu: Mapping[str, Any], previous_bot: Msg | None) -> bool:
    if m.meta.get("redacted") or not m.text.strip():
        return True
    if _intent(nlu) in SKIPPED_INTENTS:
        return True
    # The answer to the bot's own question (a card's last digits, a yes): a slot, not a topic.
    return previous_bot is not None and previous_bot.meta.get("kind") == "prompt"


def _answered(replies: Sequence[Msg]) -> bool | None:
    if not replies:
        return None
    kinds = {str(r.meta.get("kind") or "text") for r in replies}
    if "fallback" in kinds:
        return False
    if kinds <= {"handoff"}:
        return None
    return True


def _queue_of(m: Msg, messages: Sequence[Msg], handovers: Sequence[Handover]) -> str | None:
    """The queue of the handoff this message's conversation went through: the first at or after
    the message, else the one the conversation was already in."""
    if handovers:
        return next((h.queue for h in handovers if h.at >= m.at), handovers[-1].queue)
    for n in messages:
        if n.sender == "bot" and n.meta.get("kind") == "handoff":
            return str(n.meta.get("queue") or "general")
        if n.sender == "agent":
            return str(n.meta.get("queue") or "general")
    return None


def _rejected(replies: Sequence[Msg], later: Sequence[Msg]) -> bool:
    if not any(r.meta.get("kind") == "answer" for r in replies):
        return False
    following = next((n for n in later if n.sender == "customer"), None)
    if following is None:
        return False
    nlu = following.meta.get("nlu")
    if not isinstance(nlu, Mapping):
        return False
    return _intent(nlu) in _REJECTING_INTENTS or _negative(nlu)
