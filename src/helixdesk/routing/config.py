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


class SlaRule(_Model):
    """A first-response target for the conversations it matches: those of a queue, a customer tier,
    a channel, or any combination (at least one given)."""

    queue: str | None = Field(default=None, min_length=1, max_length=32)
    tier: str | None = Field(default=None, min_length=1, max_length=32)
    channel: str | None = Field(default=None, min_length=1, max_length=16)
    seconds: int = Field(ge=5, le=86_400)

    @model_validator(mode="after")
    def _matches_something(self) -> SlaRule:
        if self.queue is None and self.tier is None and self.channel is None:
            raise ValueError("an SLA rule names at least one of queue, tier, channel")
        if self.queue is not None and self.queue not in QUEUES:
            raise ValueError(f"unknown queue {self.queue!r}; queues are {', '.join(QUEUES)}")
        return self

    @property
    def specificity(self) -> int:
        """How many of queue, tier and channel the rule names."""
        return sum(x is not None for x in (self.queue, self.tier, self.channel))

    def matches(self, queue: str, tier: str | None, channel: str | None) -> bool:
        return (
            (self.queue is None or self.queue == queue)
            and (self.tier is None or self.tier == tier)
            and (self.channel is None or self.channel == channel)
        )


class Routing(_Model):
    queues: dict[str, QueueRule]
    # First-response targets by queue, customer tier and channel; see `sla_for`.
    sla_rules: tuple[SlaRule, ...] = ()
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

    def sla_for(self, queue: str, tier: str | None = None, channel: str | None = None) -> int:
        """The first-response target, in seconds, of a conversation of `queue` for a customer of
        `tier` on `channel`: the most specific matching rule's (the one naming most of queue, tier
        and channel), the strictest of equally specific ones; with no rule matching, the queue's
        `sla_seconds`."""
        matching = [r for r in self.sla_rules if r.matches(queue, tier, channel)]
        if not matching:
            return self.queues[queue].sla_seconds
        best = max(r.specificity for r in matching)
        return min(r.seconds for r in matching if r.specificity == best)

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
