"""The pack's handoff policy (`handoff/policy.yaml`): triggers, routing weights, wellbeing limits.

The file holds three parts, each owned by the package that uses it: `triggers` (when the bot hands
over: `helixdesk.dialogue.triggers`), `routing` and `wellbeing` (`helixdesk.routing.config`).

Validated when loaded; a bad file fails start-up with `handoff_policy_invalid` and the field at fault.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helixdesk.conversations.models import CHANNELS
from helixdesk.core.errors import ConfigurationError
from helixdesk.dialogue.triggers import Triggers
from helixdesk.routing.config import Routing, Wellbeing
from helixdesk.routing.queues import QUEUES


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
        for n, rule in enumerate(self.routing.sla_rules):
            if rule.channel is not None and rule.channel not in CHANNELS:
                raise ValueError(
                    f"routing.sla_rules.{n}: unknown channel {rule.channel!r}; "
                    f"channels are {', '.join(CHANNELS)}"
                )
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
