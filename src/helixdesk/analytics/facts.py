"""What one conversation contributes to every metric. Pure: the conversation's stored facts in, one
`Fact` out. The formulas built on these fields are in `analytics.metrics` and docs/analytics.md.

- `engaged`: the customer said something (the denominator of most rates).
- `contained`: engaged, and no person was asked for (no handoff); an open conversation counts as
  contained until it is handed over.
- `handed_off` / `handoff_reason` / `queue`: the first handoff's reason and queue.
- `agent_id`: the person who handled it last (the last handoff a person claimed).
- `closed` / `resolved`: first-contact resolution. A closed conversation (one the customer said
  something in) is resolved unless it was
  abandoned waiting for a person, a person wrapped it up as unresolved, or the same customer came
  back within `REPEAT_DAYS` of its start.
- `first_response_seconds`: from the customer's first message to the first reply (bot or person).
- `queue_wait_seconds`: from the first handoff to its claim by a person (claimed handoffs only).
- `abandoned`: handed over, never claimed, and the conversation closed.
- `handled_seconds`: the time people held it, from each claim to its end (ended handoffs only).
- `transfers`: handoffs moved to another queue or person.
- `negative` / `emotions`: a customer message read as anger, disgust, fear or sadness; the count of
  each emotion over the customer's messages.
- `risky` / `risks`: the risk types the NLU flagged in the customer's messages.
- `sla_seconds` / `agent_response_seconds` / `sla_met`: the first handoff's target (the one in
  force when the customer was queued) and the time to the first message of a person after it. Met
  when the person answered within the target; missed when they answered later, or never did and
  the customer waited past the target; undecided (None) while waiting, or when the customer left
  before the target.
- `emotional_load`: the negativity of the handoffs people claimed (what the agent carried).
- `came_back`: the same customer started another conversation within `REPEAT_DAYS` (repeat contact).
- `knowledge`: the knowledge the bot's answers cited (entry ids, or documents), for evaluating an
  entry's effect (`analytics.evaluation`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from helixdesk.nlu.emotion.data import NEGATIVE

REPEAT_DAYS = 7
# A conversation's intent is its first customer message's, skipping these (they name no need).
_NO_NEED = frozenset({"greeting", "goodbye", "praise", "thanks", "human_agent"})


@dataclass(frozen=True, slots=True)
class Conv:
    id: str
    customer_id: str
    channel: str
    language: str | None
    state: str
    created_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Msg:
    seq: int
    sender: str
    at: datetime
    nlu: Mapping[str, Any] | None = None
    cites: tuple[str, ...] = ()  # a bot answer's knowledge: the entries (or documents) it cites


@dataclass(frozen=True, slots=True)
class Hand:
    queue: str
    reason: str
    status: str
    created_at: datetime
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    agent_id: str | None = None
    resolution: str | None = None
    sla_seconds: int | None = None
    negativity: float = 0.0
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    conversation_id: str
    customer_id: str
    started_at: datetime
    day: date
    channel: str = ""
    language: str = ""
    queue: str = ""
    tier: str = ""
    intent: str = ""
    agent_id: str = ""
    engaged: bool = False
    contained: bool = False
    handed_off: bool = False
    handoff_reason: str = ""
    closed: bool = False
    resolved: bool = False
    csat: int | None = None
    first_response_seconds: float | None = None
    queue_wait_seconds: float | None = None
    abandoned: bool = False
    handled_seconds: float = 0.0
    transfers: int = 0
    negative: bool = False
    risky: bool = False
    sla_seconds: int | None = None
    agent_response_seconds: float | None = None
    sla_met: bool | None = None
    emotional_load: float = 0.0
    emotions: Mapping[str, int] = field(default_factory=dict)
    risks: tuple[str, ...] = ()
    came_back: bool = False
    knowledge: tuple[str, ...] = ()


def conversation_fact(
    conv: Conv,
    messages: Sequence[Msg],
    handoffs: Sequence[Hand],
    *,
    csat: int | None,
    tier: str | None,
    came_back: bool,
    tz: tzinfo,
) -> Fact:
    """The conversation's fact row. `tier` is the customer's value tier when known (a handoff's
    packet says it first); `came_back`: the same customer started another conversation within
    `REPEAT_DAYS` of this one's start."""
    msgs = sorted(messages, key=lambda m: m.seq)
    hands = sorted(handoffs, key=lambda h: h.created_at)
    customer = [m for m in msgs if m.sender == "customer"]
    engaged = bool(customer)
    first = hands[0] if hands else None
    claimed = [h for h in hands if h.claimed_at is not None]
    closed = conv.state == "closed" and engaged
    abandoned = first is not None and not claimed and closed
    unresolved = any(h.resolution == "unresolved" for h in hands)
    emotions: Counter[str] = Counter()
    risks: set[str] = set()
    for m in customer:
        nlu = m.nlu or {}
        emotion = nlu.get("emotion")
        if isinstance(emotion, Mapping) and emotion.get("label"):
            emotions[str(emotion["label"])] += 1
        for r in nlu.get("risk") or ():
            kind = r.get("type") if isinstance(r, Mapping) else r
            if kind:
                risks.add(str(kind))
    agent_response, sla_met = _sla(first, msgs, conv, closed)
    handoff_tier = next((h.tier for h in hands if h.tier), None)
    return Fact(
        conversation_id=conv.id,
        customer_id=conv.customer_id,
        started_at=conv.created_at,
        day=conv.created_at.astimezone(tz).date(),
        channel=conv.channel or "",
        language=conv.language or "",
        queue=first.queue if first else "",
        tier=handoff_tier or tier or "",
        intent=_intent(customer),
        agent_id=(claimed[-1].agent_id or "") if claimed else "",
        engaged=engaged,
        contained=engaged and first is None,
        handed_off=first is not None,
        handoff_reason=first.reason if first else "",
        closed=closed,
        resolved=closed and not abandoned and not unresolved and not came_back,
        csat=csat,
        first_response_seconds=_first_response(msgs),
        queue_wait_seconds=_seconds(first.created_at, first.claimed_at)
        if first and first.claimed_at
        else None,
        abandoned=abandoned,
        handled_seconds=sum(
            _seconds(h.claimed_at, h.closed_at) for h in claimed if h.claimed_at and h.closed_at
        ),
        transfers=sum(1 for h in hands if h.status == "transferred"),
        negative=any(label in NEGATIVE for label in emotions),
        risky=bool(risks),
        sla_seconds=first.sla_seconds if first else None,
        agent_response_seconds=agent_response,
        sla_met=sla_met,
        emotional_load=round(sum(h.negativity for h in claimed), 4),
        emotions=dict(sorted(emotions.items())),
        risks=tuple(sorted(risks)),
        came_back=came_back,
        knowledge=tuple(sorted({ref for m in msgs if m.sender == "bot" for ref in m.cites})),
    )


def _seconds(start: datetime, end: datetime) -> float:
    return round(max(0.0, (end - start).total_seconds()), 3)


def _intent(customer: Sequence[Msg]) -> str:
    for m in customer:
        intent = (m.nlu or {}).get("intent")
        name = intent.get("name") if isinstance(intent, Mapping) else None
        if name and name not in _NO_NEED:
            return str(name)
    return ""


def _first_response(msgs: Sequence[Msg]) -> float | None:
    asked = next((m for m in msgs if m.sender == "customer"), None)
    if asked is None:
        return None
    reply = next((m for m in msgs if m.seq > asked.seq and m.sender in ("bot", "agent")), None)
    return _seconds(asked.at, reply.at) if reply is not None else None


def _sla(
    first: Hand | None, msgs: Sequence[Msg], conv: Conv, closed: bool
) -> tuple[float | None, bool | None]:
    """The first person's response time after the first handoff, and whether it met the target."""
    if first is None:
        return None, None
    answer = next((m for m in msgs if m.sender == "agent" and m.at >= first.created_at), None)
    if answer is not None:
        waited = _seconds(first.created_at, answer.at)
        return waited, (waited <= first.sla_seconds if first.sla_seconds is not None else None)
    if not closed or first.sla_seconds is None:
        return None, None
    ended = conv.closed_at or (msgs[-1].at if msgs else first.created_at)
    return None, (False if _seconds(first.created_at, ended) > first.sla_seconds else None)
