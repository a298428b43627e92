"""Typed effects of a bot turn.

`decide` writes nothing. What it wants done comes back as effects of two kinds:

- Asks: effects whose result the decision needs before it can go on (run an action, list the
  customer's cards, send or check a one-time code, look in the knowledge base). The turn's
  executor (`helixdesk.dialogue.executor`) runs each one once and calls `decide` again with the
  result.
- Changes stored with the turn, in the transaction that stores the replies (`Decision.effects`):
  open, resolve or mark an issue raised, record an incident explained or a lifecycle touch, hand
  the conversation over, redact the customer's message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from helixdesk.core.events import Citation
from helixdesk.lifecycle.touches import TouchRead


def _frozen(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)


# ---- asks ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunAction:
    """Run a business action for the customer (`purpose`: the request itself, re-checking an open
    issue, or the figure a tip quotes)."""

    name: str
    params_json: str
    confirmed: bool = False
    idempotency_key: str | None = None
    purpose: Literal["request", "recheck", "tip"] = "request"

    @classmethod
    def of(
        cls,
        name: str,
        params: Mapping[str, Any],
        *,
        confirmed: bool = False,
        idempotency_key: str | None = None,
        purpose: Literal["request", "recheck", "tip"] = "request",
    ) -> RunAction:
        return cls(name, _frozen(params), confirmed, idempotency_key, purpose)

    @property
    def params(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.params_json)
        return value


@dataclass(frozen=True, slots=True)
class ListChoices:
    """What the customer can choose from for a slot: cards, credit cards, accounts, plans."""

    kind: str


@dataclass(frozen=True, slots=True)
class SendCode:
    language: str


@dataclass(frozen=True, slots=True)
class CheckCode:
    code: str


@dataclass(frozen=True, slots=True)
class AskKnowledge:
    query: str
    language: str
    hint_json: str  # the NLU's intent ranking {intent: confidence}, an intent name, or null

    @classmethod
    def of(cls, query: str, *, language: str, hint: Mapping[str, float] | str | None) -> AskKnowledge:
        return cls(query, language, json.dumps(hint, sort_keys=True))

    @property
    def hint(self) -> dict[str, float] | str | None:
        value: dict[str, float] | str | None = json.loads(self.hint_json)
        return value


@dataclass(frozen=True, slots=True)
class ReadLifecycle:
    """The customer as the lifecycle strategies see them, and the bank's active strategies: read
    once per conversation, when the bot may add its one lifecycle touch."""


Ask = RunAction | ListChoices | SendCode | CheckCode | AskKnowledge | ReadLifecycle


# ---- results of asks --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionDone:
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ActionRefused:
    code: str
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Choices:
    options: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class CodeSent:
    destination: str
    valid_minutes: int


@dataclass(frozen=True, slots=True)
class CodeNotSent:
    code: str  # identity_locked, verification_resend_too_soon, ...
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CodeChecked:
    status: Literal["verified", "wrong_code", "expired", "locked", "no_challenge"]
    attempts_left: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeReply:
    grounded: bool
    text: str = ""
    citations: tuple[Citation, ...] = ()
    # Causes and solutions from the knowledge graph, for "why/how" questions.
    explanations: tuple[tuple[str, str], ...] = ()
    score: float = 0.0
    # Every passage found at or above the grounding threshold, with its citation, best first: what
    # the optional LLM composes an answer from (docs/llm.md). The template shows `text` only.
    passages: tuple[tuple[str, Citation], ...] = ()


Result = (
    ActionDone | ActionRefused | Choices | CodeSent | CodeNotSent | CodeChecked | KnowledgeReply | TouchRead
)


# ---- changes stored with the turn ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenIssue:
    topic: str
    intent: str
    action: str | None = None
    ref: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResolveIssue:
    topic: str = ""
    ref: str | None = None
    issue_id: str | None = None


@dataclass(frozen=True, slots=True)
class IssueRaised:
    """An open issue from an earlier contact was raised with the customer in this conversation."""

    issue_id: str


@dataclass(frozen=True, slots=True)
class IncidentExplained:
    """The customer was told about an incident (at this version of it) in this conversation."""

    incident_id: str
    version: int


@dataclass(frozen=True, slots=True)
class LifecycleTouched:
    """The bot gave a strategy's touch in this conversation (`arm` touched), or held it back from a
    customer in the strategy's holdout group (`arm` holdout)."""

    strategy_id: str
    version: int
    kind: str
    arm: Literal["touched", "holdout"]
    value: str | None = None
    trigger: str = "conversation"


@dataclass(frozen=True, slots=True)
class HandOver:
    queue: str
    reason: str
    intent: str | None = None
    # Why, as a stable code: customer_request, policy, or a trigger's reason (fraud_risk, ...).
    trigger: str = "policy"
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class RedactMessage:
    """The customer's message was a one-time code: store nothing of it."""


Change = (
    OpenIssue | ResolveIssue | IssueRaised | IncidentExplained | LifecycleTouched | HandOver | RedactMessage
)
