"""When the bot must hand a conversation to a person (checked after every customer turn).

In order of precedence:
1. `fraud_risk`: a fraud or scam report, on the customer's first message: a strong fraud signal
   (盗刷, 安全账户, "someone used my card"), or an intent that is a fraud report. For intents where
   the bot shows the facts first (a doubted charge, a lost card) only the strongest signals count
   (`fraud_override_weight`: a scam, a code given away, "someone used my card").
2. `crisis`: wording about self-harm; `vulnerability`: hardship, illness, bereavement or an
   elderly customer together with a high-risk request.
3. `escalation`: regulator, media, lawyers, repeated complaints.
4. `vip_wealth`: a high-value customer asking for wealth business goes to a relationship manager.
5. `emotion_rising`: negative emotion rising over the last turns (a trend, not one word).
6. `not_helped`: the customer says the bot's last answer did not help.
7. `repeated_request`: the same request several times in a row.
8. `bot_failed`: several unclear turns in a row (`check_bot_failed`, after the bot's turn: only
   the dialogue knows whether it understood).
Triggers 1-7 are checked *before* the bot acts on the message, so a conversation that goes to a
person never gets a one-time code or an action started on the way. The dialogue manager's own
handoffs (the customer asks for a person, a policy says so) stand; `bot_failed` may only move them
to a more urgent queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from helixdesk.bank.connector import Customer
from helixdesk.core.turn import Turn
from helixdesk.nlu.text import to_simplified


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmotionTrigger(_Model):
    negative: tuple[str, ...] = ("anger", "fear", "sadness", "disgust")
    window: int = Field(default=3, ge=2, le=10)
    level: float = Field(default=0.55, gt=0, le=1)
    rise: float = Field(default=0.15, ge=0, le=1)
    sustained: float = Field(default=0.8, gt=0, le=1)


class VulnerabilityTrigger(_Model):
    queue: str = "senior"
    elderly_age: int = Field(default=65, ge=50, le=100)
    high_risk_intents: tuple[str, ...] = ()


class VipWealthTrigger(_Model):
    tiers: tuple[str, ...] = ("vip",)
    intents: tuple[str, ...] = ("wealth_product_inquiry",)
    queue: str = "relationship_manager"


class FastLane(_Model):
    """The fraud fast lane (`helixdesk.dialogue.flows.protect`)."""

    # Freeze the card a fraud report is about at once, for a customer the channel already knows
    # (light verification): no one-time code, which a scam victim may just have given away.
    protective_freeze: bool = True
    # Reports that are about a card: these intents, or these words in the message.
    freeze_intents: tuple[str, ...] = ("card_fraud_report", "card_lost_or_stolen")
    freeze_cues: tuple[str, ...] = ()


class Triggers(_Model):
    low_confidence_turns: int = Field(default=3, ge=1, le=10)
    repeated_intent_turns: int = Field(default=3, ge=2, le=10)
    not_helped_cues: tuple[str, ...] = ()
    # Phrases that contain a cue but say something else (「一直没用」: "have not used").
    not_helped_not: tuple[str, ...] = ()
    emotion: EmotionTrigger = EmotionTrigger()
    fraud_queue: str = "fraud"
    fraud_min_weight: float = Field(default=0.8, gt=0, le=1)
    # Intents that are a fraud report in themselves ("someone took money from my card").
    fraud_intents: tuple[str, ...] = ()
    fraud_intent_confidence: float = Field(default=0.6, gt=0, le=1)
    # Intents where the bot shows the facts first even when fraud is suspected (a doubted charge),
    # unless a signal reaches `fraud_override_weight`.
    bot_first_intents: tuple[str, ...] = ()
    fraud_override_weight: float = Field(default=0.9, gt=0, le=1)
    fast_lane: FastLane = FastLane()
    escalation_queue: str = "senior"
    escalation_min_weight: float = Field(default=0.7, gt=0, le=1)
    vulnerability: VulnerabilityTrigger = VulnerabilityTrigger()
    vip_wealth: VipWealthTrigger = VipWealthTrigger()


QUEUE_RANK = {"fraud": 0, "senior": 1, "relationship_manager": 2, "general": 3}


@dataclass(frozen=True, slots=True)
class Trigger:
    reason: str
    queue: str
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class TurnHistory:
    """What the triggers need from earlier turns of the conversation (oldest first)."""

    emotions: tuple[tuple[str, float], ...]  # (label, intensity), this turn included
    intents: tuple[str, ...]  # intent names, this turn included
    low_confidence: int  # unclear turns in a row, this turn included
    resolved_last_turn: bool = False  # the bot's previous turn ran an action or gave a grounded answer


def negativity(label: str, intensity: float, negative: tuple[str, ...]) -> float:
    return intensity if label in negative else 0.0


def check_triggers(
    turn: Turn,
    history: TurnHistory,
    *,
    policy: Triggers,
    profile: Customer | None,
    today: date,
) -> Trigger | None:
    intent = turn.intent.name if turn.intent else None
    by_type: dict[str, list[tuple[float, str]]] = {}
    for signal in turn.risk:
        by_type.setdefault(signal.type, []).append((signal.weight, signal.evidence))

    fraud = max(by_type.get("fraud", []), default=None)
    bot_first = intent in policy.bot_first_intents
    if fraud and fraud[0] >= (policy.fraud_override_weight if bot_first else policy.fraud_min_weight):
        return Trigger("fraud_risk", policy.fraud_queue, fraud[1])
    if (
        turn.intent is not None
        and intent in policy.fraud_intents
        and turn.intent.confidence >= policy.fraud_intent_confidence
    ):
        return Trigger("fraud_risk", policy.fraud_queue, fraud[1] if fraud else intent)

    vulnerable = max(by_type.get("vulnerability", []), default=None)
    if vulnerable and vulnerable[0] >= 1.0:
        return Trigger("crisis", policy.vulnerability.queue, vulnerable[1])
    elderly = (profile is not None and profile.age(today) >= policy.vulnerability.elderly_age) or bool(
        vulnerable and vulnerable[0] >= 0.5
    )
    if elderly and intent in policy.vulnerability.high_risk_intents:
        evidence = vulnerable[1] if vulnerable else f"age {profile.age(today) if profile else '?'}"
        return Trigger("vulnerability", policy.vulnerability.queue, evidence)

    escalation = max(by_type.get("escalation", []), default=None)
    if escalation and escalation[0] >= policy.escalation_min_weight:
        return Trigger("escalation", policy.escalation_queue, escalation[1])

    vip = policy.vip_wealth
    if profile is not None and profile.value_tier in vip.tiers and intent in vip.intents:
        return Trigger("vip_wealth", vip.queue)

    rising = _emotion_rising(history, policy)
    if rising is not None:
        return Trigger("emotion_rising", "general", rising)

    if len(history.intents) > 1 or history.resolved_last_turn:
        # "That didn't help" answers the bot's last reply: in the first message, 没用 is "not
        # used" (「卡一直没用」), not a verdict.
        lowered = to_simplified(turn.normalized or turn.text.lower())
        for word in policy.not_helped_not:
            lowered = lowered.replace(to_simplified(word.lower()), " ")
        for cue in policy.not_helped_cues:
            if to_simplified(cue.lower()) in lowered:
                return Trigger("not_helped", "general", cue)

    n = policy.repeated_intent_turns
    recent = history.intents[-n:]
    if (
        len(recent) == n
        and len(set(recent)) == 1
        and recent[0] not in ("out_of_scope", "greeting", "goodbye", "praise", "human_agent")
        and not history.resolved_last_turn
    ):
        return Trigger("repeated_request", "general", recent[0])
    return None


def check_bot_failed(low_confidence: int, *, policy: Triggers) -> Trigger | None:
    """After the bot's turn: too many unclear turns in a row."""
    if low_confidence >= policy.low_confidence_turns:
        return Trigger("bot_failed", "general", f"{low_confidence} unclear turns")
    return None


def _emotion_rising(history: TurnHistory, policy: Triggers) -> str | None:
    rule = policy.emotion
    window = history.emotions[-rule.window :]
    if len(window) < 2:
        return None
    values = [negativity(label, i, rule.negative) for label, i in window]
    last_label = window[-1][0]
    if len(values) >= 2 and values[-1] >= rule.sustained and values[-2] >= rule.sustained:
        return f"{last_label} {values[-1]:.2f} for two turns"
    if (
        len(values) == rule.window
        and sum(values) / len(values) >= rule.level
        and values[-1] - values[0] >= rule.rise
    ):
        return f"{last_label} rising {values[0]:.2f} → {values[-1]:.2f}"
    return None


def more_urgent(a: str, b: str) -> bool:
    """True if queue `a` is more urgent than queue `b`."""
    return QUEUE_RANK.get(a, 9) < QUEUE_RANK.get(b, 9)
