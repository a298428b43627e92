"""Routing's configuration (the `routing` and `wellbeing` parts of the pack's `handoff/policy.yaml`).

Validated when loaded; see `helixdesk.handoff.policy` for the file as a whole.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helixdesk.routing.queues import QUEUES


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
