"""The priority of a handed-over conversation and the explanation of how it was reached.

score = queue base + risk bonus + emotion bonus × negative intensity + customer-value bonus; the
priority shown is the score capped at 100, and the uncapped score orders conversations of equal
priority. While a conversation waits, both rise with waiting time and once more when the queue's
SLA is breached (`effective_score`). The SLA is the first-response target of the queue, the
customer's tier and the channel (`Routing.sla_for`). Every decision keeps its factors and a sentence such as
"fraud_risk ("被盗刷") + fear 0.80 → fraud queue, priority 95".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helixdesk.routing.config import Routing


@dataclass(frozen=True, slots=True)
class RoutingInput:
    queue: str
    reason: str
    evidence: str
    intent: str | None
    language: str
    risk: tuple[tuple[str, float, str], ...] = ()  # (type, weight, evidence)
    emotion: tuple[str, float] | None = None  # the customer's latest (label, intensity)
    negativity: float = 0.0  # 0-1, the conversation's negative intensity
    value_tier: str | None = None
    relationship_manager: str | None = None  # the customer's RM employee code
    channel: str | None = None  # the conversation's channel (web, app, wechat, voice, ...)


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    queue: str
    priority: int
    score: float
    sla_seconds: int
    skills: tuple[str, ...]
    explanation: str
    factors: dict[str, Any] = field(default_factory=dict)


def language_skill(language: str) -> str:
    return "en" if language == "en" else "zh"


def decide(inp: RoutingInput, policy: Routing) -> RoutingDecision:
    rule = policy.queues[inp.queue]
    parts: list[str] = [inp.reason + (f' ("{inp.evidence}")' if inp.evidence else "")]
    score = float(rule.base)
    factors: dict[str, Any] = {
        "queue": inp.queue,
        "queue_base": rule.base,
        "reason": inp.reason,
        "evidence": inp.evidence,
        "risk_types": [],
        "emotion_label": inp.emotion[0] if inp.emotion else None,
        "negativity": round(inp.negativity, 2),
        "tier": inp.value_tier if inp.value_tier and policy.value_bonus.get(inp.value_tier) else None,
    }
    risk_types = sorted({r[0] for r in inp.risk})
    risk_points = sum(policy.risk_bonus.get(t, 0) for t in risk_types)
    if risk_points:
        score += risk_points
        factors["risk"] = {t: policy.risk_bonus.get(t, 0) for t in risk_types}
        factors["risk_types"] = risk_types
        parts.append("risk: " + ", ".join(risk_types))
    if inp.negativity > 0:
        points = policy.emotion_bonus * inp.negativity
        score += points
        factors["emotion"] = round(points, 1)
        label = inp.emotion[0] if inp.emotion else "negative"
        parts.append(f"{label} {inp.negativity:.2f}")
    if inp.value_tier and policy.value_bonus.get(inp.value_tier):
        score += policy.value_bonus[inp.value_tier]
        factors["value"] = policy.value_bonus[inp.value_tier]
        parts.append(inp.value_tier.upper() if inp.value_tier == "vip" else inp.value_tier)
    priority = max(0, min(100, round(score)))
    skills = [language_skill(inp.language)]
    area = policy.skill_of(inp.intent)
    if area:
        skills.append(area)
    factors["priority"] = priority
    # The first-response target in force now (`Routing.sla_for`): the handoff keeps it.
    sla_seconds = policy.sla_for(inp.queue, inp.value_tier, inp.channel)
    factors["sla_seconds"] = sla_seconds
    explanation = f"{' + '.join(parts)} → {inp.queue} queue, priority {priority}"
    return RoutingDecision(
        queue=inp.queue,
        priority=priority,
        score=round(score, 2),
        sla_seconds=sla_seconds,
        skills=tuple(skills),
        explanation=explanation,
        factors=factors,
    )


def effective_score(
    score: float, *, created_at: datetime, sla_seconds: int, now: datetime, policy: Routing
) -> float:
    """The score a waiting conversation has now: it rises while the customer waits."""
    waited = max(0.0, (now - created_at).total_seconds())
    bonus = min(policy.waiting_bonus_max, policy.waiting_bonus_per_minute * waited / 60)
    if waited > sla_seconds:
        bonus += policy.sla_breach_bonus
    return score + bonus


def effective_priority(
    score: float, *, created_at: datetime, sla_seconds: int, now: datetime, policy: Routing
) -> int:
    """The priority shown for a waiting conversation now (0-100)."""
    return min(
        100,
        round(effective_score(score, created_at=created_at, sla_seconds=sla_seconds, now=now, policy=policy)),
    )
