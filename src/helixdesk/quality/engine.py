"""The QA engine: a conversation's facts in, its findings and scorecard out. Pure.

`assess(book, facts)` runs every check of the pack's rule book (`helixdesk.quality.rules`) over
one conversation as it stands:

- wording, per agent message and bot reply: absolute promises, asking for secrets, personal data
  in clear, rude wording, shirking;
- product talk over the conversation: a missing risk disclosure, an unsuitable product for this
  customer;
- emotion conflict: the customer's anger or fear rising, the customer repeating themselves, long
  silences from the agent, the conversation bounced between queues;
- dissatisfaction and outcome: "that didn't help" (a handoff for `not_helped`), an unresolved
  wrap-up, abandoned while waiting, a low CSAT, contact again about the same topic within 7 days.

The same history always gives the same findings (each found at its first occurrence), so the
consumer can run it again on every event and store only what is new.

**First-contact resolution** (one definition everywhere): a conversation is resolved at first
contact unless it ended unresolved (a wrap-up marked unresolved), was abandoned while waiting for a
person, or the same customer contacted the bank again about the same topic within
`repeat_contact_days` days. Until one of these is known it counts as resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helixdesk.nlu.text import normalise
from helixdesk.quality.rules import Customer, Hit, Line, RuleBook

CONFLICT_RULES = frozenset({"rising_anger", "shirking", "agent_silence", "customer_repeats", "queue_bounces"})
OUTCOME_SEVERITY = {
    "not_helped": "medium",
    "unresolved": "medium",
    "abandoned": "medium",
    "low_csat": "medium",
}
OUTCOME_SEVERITY["repeat_contact"] = "low"


@dataclass(frozen=True, slots=True)
class Msg:
    id: str
    seq: int
    sender: str
    text: str
    created_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def agent_id(self) -> str | None:
        value = self.meta.get("agent_id")
        return str(value) if value else None


@dataclass(frozen=True, slots=True)
class HandoffFact:
    id: str
    queue: str
    status: str
    reason: str
    created_at: datetime
    agent_id: str | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    conversation_id: str
    channel: str = "web"
    language: str | None = None
    customer: Customer | None = None
    messages: tuple[Msg, ...] = ()
    handoffs: tuple[HandoffFact, ...] = ()
    csat: int | None = None
    csat_comment: str = ""
    closed: bool = False
    abandoned: bool = False
    repeat_contact: str | None = None  # the later conversation about the same topic, if any


@dataclass(frozen=True, slots=True)
class FindingOut:
    rule: str
    category: str
    severity: str
    message_id: str = ""
    seq: int | None = None
    sender: str | None = None
    agent_id: str | None = None
    evidence: str = ""
    start: int | None = None
    end: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Assessment:
    findings: tuple[FindingOut, ...]
    score: float
    breakdown: dict[str, float]
    fcr: bool
    conflict: bool
    agent_id: str | None
    team: str | None
    handled_seconds: float | None
    topic: str | None


def assess(book: RuleBook, facts: Facts) -> Assessment:
    msgs = facts.messages
    findings: list[FindingOut] = []
    for m in msgs:
        if m.sender in ("agent", "bot"):
            findings += [_from_hit(h, m) for h in book.check_message(m.text, m.sender)]
    lines = [Line(m.sender, m.text) for m in msgs]
    for h in book.check_products(lines, facts.customer):
        findings.append(_from_hit(h, msgs[h.line]))
    findings += _conflict(book, facts)
    findings += _outcome(book, facts)
    findings = _first_of_each(findings)

    penalties = book.penalties
    breakdown: dict[str, float] = {}
    for f in findings:
        breakdown[f.category] = breakdown.get(f.category, 0.0) + penalties.get(f.severity, 0.0)
    score = max(0.0, 100.0 - sum(breakdown.values()))
    fcr = not any(f.rule in ("unresolved", "abandoned", "repeat_contact") for f in findings)
    agent_id, team, handled = _handling(facts)
    return Assessment(
        findings=tuple(findings),
        score=round(score, 1),
        breakdown=breakdown,
        fcr=fcr,
        conflict=any(f.rule in CONFLICT_RULES for f in findings),
        agent_id=agent_id,
        team=team,
        handled_seconds=handled,
        topic=topic_of(msgs),
    )


def topic_of(msgs: tuple[Msg, ...]) -> str | None:
    """The conversation's topic: the intent the customer's messages most often had (ties: first)."""
    counts: dict[str, int] = {}
    for m in msgs:
        if m.sender != "customer":
            continue
        intent = ((m.meta.get("nlu") or {}).get("intent") or {}).get("name")
        if intent and intent not in _NOT_TOPICS:
            counts[intent] = counts.get(intent, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None


_NOT_TOPICS = frozenset(
    {
        "out_of_scope",
        "greeting",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "small_talk",
        "human_agent",
        "not_helped",
    }
)


def _from_hit(h: Hit, m: Msg) -> FindingOut:
    return FindingOut(
        rule=h.rule,
        category=h.category,
        severity=h.severity,
        message_id=m.id,
        seq=m.seq,
        sender=m.sender,
        agent_id=m.agent_id,
        evidence=h.evidence,
        start=h.start,
        end=h.end,
        detail=dict(h.detail),
    )


def _whole(m: Msg, rule: str, category: str, severity: str, **detail: Any) -> FindingOut:
    return FindingOut(
        rule=rule,
        category=category,
        severity=severity,
        message_id=m.id,
        seq=m.seq,
        sender=m.sender,
        agent_id=m.agent_id,
        evidence=m.text[:300],
        start=0,
        end=min(len(m.text), 300),
        detail=detail,
    )


def _conflict(book: RuleBook, facts: Facts) -> list[FindingOut]:
    cfg = book.conversation
    out: list[FindingOut] = []
    customer = [m for m in facts.messages if m.sender == "customer"]

    anger = cfg.get("rising_anger", {})
    negative = set(anger.get("emotions", ["anger", "fear", "disgust"]))
    floor = float(anger.get("min_intensity", 0.45))
    need, window = int(anger.get("count", 2)), int(anger.get("window", 3))
    for i in range(len(customer)):
        recent = customer[max(0, i - window + 1) : i + 1]
        feelings = [_emotion(m) for m in recent]
        hot = [(label, x) for label, x in feelings if label in negative and x >= floor]
        last_label, last_x = feelings[-1]
        if len(hot) >= need and last_label in negative and last_x >= floor and last_x >= hot[0][1]:
            m = customer[i]
            out.append(
                _whole(m, "rising_anger", "conflict", str(anger.get("severity", "high")), emotion=last_label)
            )
            break

    repeats = cfg.get("customer_repeats", {})
    min_chars, similar = int(repeats.get("min_chars", 6)), float(repeats.get("similarity", 0.72))
    grams = [_bigrams(m.text) for m in customer]
    for i in range(1, len(customer)):
        if len(customer[i].text.strip()) < min_chars:
            continue
        if any(_jaccard(grams[i], grams[j]) >= similar for j in range(i)):
            out.append(
                _whole(customer[i], "customer_repeats", "conflict", str(repeats.get("severity", "low")))
            )
            break

    silence = cfg.get("agent_silence", {})
    limit = float(silence.get("seconds", 120))
    waiting_since: datetime | None = None
    for m in facts.messages:
        if m.sender == "customer" and _with_agent(facts, m.created_at):
            waiting_since = waiting_since or m.created_at
        elif m.sender == "agent":
            if waiting_since is not None and (m.created_at - waiting_since).total_seconds() > limit:
                gap = round((m.created_at - waiting_since).total_seconds())
                out.append(
                    _whole(
                        m, "agent_silence", "conflict", str(silence.get("severity", "medium")), seconds=gap
                    )
                )
                break
            waiting_since = None

    bounces = cfg.get("queue_bounces", {})
    transferred = [h for h in facts.handoffs if h.status == "transferred"]
    if len(transferred) >= int(bounces.get("transfers", 2)):
        queues = [h.queue for h in facts.handoffs]
        out.append(
            FindingOut(
                rule="queue_bounces",
                category="conflict",
                severity=str(bounces.get("severity", "medium")),
                evidence=" → ".join(queues),
                agent_id=transferred[-1].agent_id,
                detail={"queues": queues},
            )
        )
    return out


def _outcome(book: RuleBook, facts: Facts) -> list[FindingOut]:
    out: list[FindingOut] = []
    for h in facts.handoffs:
        if h.reason == "not_helped":
            said = _last_customer_before(facts.messages, h.created_at)
            if said is not None:
                out.append(_whole(said, "not_helped", "dissatisfaction", OUTCOME_SEVERITY["not_helped"]))
            break
    for h in facts.handoffs:
        if h.status == "closed" and h.resolution == "unresolved":
            out.append(
                FindingOut(
                    rule="unresolved",
                    category="resolution",
                    severity=OUTCOME_SEVERITY["unresolved"],
                    agent_id=h.agent_id,
                    evidence=h.queue,
                    detail={"handoff_id": h.id},
                )
            )
            break
    if facts.abandoned:
        out.append(
            FindingOut(rule="abandoned", category="resolution", severity=OUTCOME_SEVERITY["abandoned"])
        )
    low = int(book.conversation.get("low_csat", 2))
    if facts.csat is not None and facts.csat <= low:
        out.append(
            FindingOut(
                rule="low_csat",
                category="dissatisfaction",
                severity=OUTCOME_SEVERITY["low_csat"],
                evidence=facts.csat_comment[:300],
                detail={"score": facts.csat},
            )
        )
    if facts.repeat_contact:
        out.append(
            FindingOut(
                rule="repeat_contact",
                category="resolution",
                severity=OUTCOME_SEVERITY["repeat_contact"],
                detail={"next_conversation": facts.repeat_contact},
            )
        )
    return out


def _handling(facts: Facts) -> tuple[str | None, str | None, float | None]:
    """The person who handled the conversation last, their queue, and the time people spent on it."""
    agent_id = team = None
    total = 0.0
    handled = False
    for h in facts.handoffs:
        if h.claimed_at is None:
            continue
        handled = True
        agent_id, team = h.agent_id or agent_id, h.queue
        end = h.closed_at or (facts.messages[-1].created_at if facts.messages else h.claimed_at)
        total += max(0.0, (end - h.claimed_at).total_seconds())
    return agent_id, team, (round(total, 1) if handled else None)


def _with_agent(facts: Facts, at: datetime) -> bool:
    return any(
        h.claimed_at is not None and h.claimed_at <= at and (h.closed_at is None or at <= h.closed_at)
        for h in facts.handoffs
    )


def _last_customer_before(msgs: tuple[Msg, ...], at: datetime) -> Msg | None:
    found = None
    for m in msgs:
        if m.sender == "customer" and m.created_at <= at:
            found = m
    return found


def _emotion(m: Msg) -> tuple[str, float]:
    emotion = (m.meta.get("nlu") or {}).get("emotion") or {}
    return str(emotion.get("label") or "neutral"), float(emotion.get("intensity") or 0.0)


def _bigrams(text: str) -> frozenset[str]:
    norm = "".join(ch for ch in normalise(text) if ch.isalnum())
    return frozenset(norm[i : i + 2] for i in range(len(norm) - 1))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _first_of_each(findings: list[FindingOut]) -> list[FindingOut]:
    """One finding per rule and message (the conversation-level ones once per conversation)."""
    seen: set[tuple[str, str]] = set()
    out: list[FindingOut] = []
    for f in findings:
        key = (f.rule, f.message_id)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out
