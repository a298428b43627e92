"""The pack's handoff policy (`handoff/policy.yaml`): triggers, routing weights, wellbeing limits.

Validated when loaded; a bad file fails start-up with `handoff_policy_invalid` and the field at fault.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helixdesk.auth.roles import QUEUES
from helixdesk.errors import ConfigurationError


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


class Triggers(_Model):
    low_confidence_turns: int = Field(default=3, ge=1, le=10)
    repeated_intent_turns: int = Field(default=3, ge=2, le=10)
    not_helped_cues: tuple[str, ...] = ()
    emotion: EmotionTrigger = EmotionTrigger()
    fraud_queue: str = "fraud"
    fraud_min_weight: float = Field(default=0.8, gt=0, le=1)
    # Intents where the bot shows the facts first even when fraud is suspected (a doubted charge).
    bot_first_intents: tuple[str, ...] = ()
    escalation_queue: str = "senior"
    escalation_min_weight: float = Field(default=0.7, gt=0, le=1)
    vulnerability: VulnerabilityTrigger = VulnerabilityTrigger()
    vip_wealth: VipWealthTrigger = VipWealthTrigger()


class QueueRule(_Model):
    base: int = Field(ge=0, le=100)
    sla_seconds: int = Field(ge=5, le=86_400)


class Routing(_Model):
    queues: dict[str, QueueRule]
    risk_bonus: dict[str, int] = Field(default_factory=dict)
    emotion_bonus: int = Field(default=20, ge=0, le=100)
    value_bonus: dict[str, int] = Field(default_factory=dict)
    waiting_bonus_per_minute: float = Field(default=2, ge=0, le=100)
    waiting_bonus_max: int = Field(default=20, ge=0, le=100)
    sla_breach_bonus: int = Field(default=10, ge=0, le=100)
    offer_seconds: int = Field(default=45, ge=0, le=3600)
    skills: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_queue(self) -> Routing:
        missing = [q for q in QUEUES if q not in self.queues]
        if missing:
            raise ValueError(f"routing.queues must define every queue; missing: {', '.join(missing)}")
        unknown = [q for q in self.queues if q not in QUEUES]
        if unknown:
            raise ValueError(f"unknown queue(s) {', '.join(unknown)}; queues are {', '.join(QUEUES)}")
        return self

    def skill_of(self, intent: str | None) -> str | None:
        if intent is None:
            return None
        for skill, intents in self.skills.items():
            if intent in intents:
                return skill
        return None


class Wellbeing(_Model):
    window_hours: float = Field(default=4, gt=0, le=48)
    half_life_minutes: float = Field(default=60, gt=0)
    full_weight_minutes: float = Field(default=15, gt=0)
    intense: float = Field(default=0.6, gt=0, le=1)
    max_intense_in_a_row: int = Field(default=2, ge=1)
    break_after_load: float = Field(default=1.5, gt=0)
    break_after_in_a_row: int = Field(default=3, ge=1)


class HandoffPolicy(_Model):
    triggers: Triggers = Triggers()
    routing: Routing
    wellbeing: Wellbeing = Wellbeing()
    next_steps: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_queues(self) -> HandoffPolicy:
        t = self.triggers
        for name, queue in (
            ("triggers.fraud_queue", t.fraud_queue),
            ("triggers.escalation_queue", t.escalation_queue),
            ("triggers.vulnerability.queue", t.vulnerability.queue),
            ("triggers.vip_wealth.queue", t.vip_wealth.queue),
        ):
            if queue not in QUEUES:
                raise ValueError(f"{name}: unknown queue {queue!r}; queues are {', '.join(QUEUES)}")
        return self

    def next_step(self, reason: str, intent: str | None) -> str:
        return (
            self.next_steps.get(reason)
            or self.next_steps.get(intent or "")
            or self.next_steps.get("default", "read_and_resolve")
        )


def load_handoff_policy(path: Path) -> HandoffPolicy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigurationError(
            f"{path}: cannot read the handoff policy: {e}", code="handoff_policy_invalid"
        ) from e
    try:
        return HandoffPolicy.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise ConfigurationError(f"{path}: {problems}", code="handoff_policy_invalid") from e
