"""Dialogue policies: what the bot does for each intent, as data in the pack (`dialogue/policies.yaml`).

A policy says, per intent:
- `sensitive`: the answer touches the customer's own data, so identity is verified first
  (the taxonomy's flag; a test checks it matches the spec);
- `route`: the queue that takes the conversation when the bot cannot finish it;
- `action`: the business action to run, with `slots` filled from entities and re-prompted when
  missing, and `confirm` when the action changes something;
- `answer: knowledge`: answer from the knowledge base (the general answer, also what an
  unverified customer gets for a sensitive intent);
- `reply`: a plain template (greeting, goodbye, ...);
- `handoff`: hand over to `route` (`offer` asks first, `now` hands over at once);
- `after`: a question asked once the action has answered, whose answers lead to further steps
  (start another intent with values carried over, hand off, or resolve);
- `issue`: when the outcome leaves the customer's problem open, remember it across contacts.

Nothing here is code per intent: the dialogue manager interprets these records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helixdesk.core.errors import ConfigurationError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlotPolicy(_Model):
    entities: tuple[str, ...] = ()
    required: bool = False
    choose_from: Literal["cards", "credit_cards", "accounts", "plans"] | None = None
    prompt: str | None = None
    # Values read from words in the message: {value: [cue words]}; `default` when none matched.
    words: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    default: Any = None
    # From an entity whose value is a record (money: {amount, currency}), take this field.
    field: str | None = None
    # Values the slot never takes (the exchange-rate slot skips CNY, the base currency): the next
    # matching entity is taken instead. An entity without `field` is skipped too.
    exclude: tuple[str, ...] = ()
    # Take the entity only when its record's `unless_field` is one of these (an amount in CNY is
    # not an amount of foreign currency).
    unless: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Take the entity only when its record's field is one of these (an amount of CNY to convert).
    when: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class Step(_Model):
    """One step of an `after` dialogue: reply, start an intent, hand off, or ask again."""

    reply: str | None = None
    start: str | None = None
    carry: dict[str, str] = Field(default_factory=dict)
    handoff: str | None = None
    resolve: bool = False
    ask: str | None = None
    answers: dict[str, Step] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _asks_have_answers(self) -> Step:
        if self.ask and not self.answers:
            raise ValueError("a step that asks needs answers")
        return self


class IssuePolicy(_Model):
    topic: str
    when_field: str
    open_values: tuple[str, ...]
    ref_field: str
    recheck: bool = True


class IntentPolicy(_Model):
    sensitive: bool = False
    # A protective action (freezing a card): with the fraud fast lane's `protective_freeze` on, a
    # customer the channel already knows needs no one-time code for it.
    protective: bool = False
    route: str = "bot"
    action: str | None = None
    answer: Literal["knowledge"] | None = None
    reply: str | None = None
    handoff: Literal["offer", "now"] | None = None
    slots: dict[str, SlotPolicy] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    require_one_of: tuple[str, ...] = ()
    require_one_prompt: str | None = None
    confirm: str | None = None
    result: str | None = None
    followup: bool = False
    after: Step | None = None
    # A list in the result (`matches`): when it holds several, the customer picks one first.
    pick_from: str | None = None
    after_when: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    issue: IssuePolicy | None = None

    @model_validator(mode="after")
    def _does_something(self) -> IntentPolicy:
        if not (self.action or self.answer or self.reply or self.handoff):
            raise ValueError("a policy needs an action, an answer, a reply or a handoff")
        if self.action and not self.result:
            raise ValueError("a policy with an action needs a result template")
        return self


class Words(_Model):
    """Answer words per label (yes, no, cancel, agent, ...), matched on the normalised text."""

    labels: dict[str, tuple[str, ...]]
    followup_cues: tuple[str, ...] = ()
    correction_cues: tuple[str, ...] = ()
    # "How do I ...?" about something the bot can do: the answer first, then an offer to do it;
    # unless the message also asks for it to be done (帮我, "can you").
    howto_cues: tuple[str, ...] = ()
    request_cues: tuple[str, ...] = ()


class Settings(_Model):
    intent_threshold: float = 0.5
    # A clear new request (this confident) wins over a pending yes/no question, unless the message
    # is a short answer; `interrupt_intents` (a person, a risk) win over any pending question.
    interrupt_threshold: float = Field(default=0.7, gt=0, le=1)
    interrupt_intents: tuple[str, ...] = ()
    max_reprompts: int = 2
    low_confidence_offer_after: int = 2
    abandon_issue_after_days: int = 30


class Policies(_Model):
    settings: Settings = Field(default_factory=Settings)
    words: Words
    intents: dict[str, IntentPolicy]

    def for_intent(self, name: str) -> IntentPolicy | None:
        return self.intents.get(name)


def load_policies(path: Path) -> Policies:
    if not path.is_file():
        raise ConfigurationError(f"no dialogue policies at {path}", code="invalid_policy")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Policies.model_validate(data)
    except yaml.YAMLError as e:
        raise ConfigurationError(f"{path}: {e}", code="invalid_policy") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"{path}: {where}: {first['msg']}", code="invalid_policy") from e
