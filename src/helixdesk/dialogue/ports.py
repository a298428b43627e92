"""What the dialogue manager needs from the rest of the system, as small protocols.

The running app plugs in the knowledge base, the action runner and the identity verification
service through adapters (`helixdesk.dialogue.adapters`); the manager never imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from helixdesk.bank.connector import Customer


@dataclass(frozen=True, slots=True)
class Citation:
    title: str
    source: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeReply:
    grounded: bool
    text: str = ""
    citations: tuple[Citation, ...] = ()
    # Causes and solutions from the knowledge graph, for "why/how" questions.
    explanations: tuple[tuple[str, str], ...] = ()
    score: float = 0.0


IntentHint = str | Mapping[str, float] | None


class KnowledgePort(Protocol):
    def answer(self, query: str, *, language: str, intent: IntentHint) -> KnowledgeReply:
        """`intent`: the intent name, or the NLU's {intent: confidence} ranking, or None."""
        ...


class ActionFailed(Exception):
    """An action refused or failed with a stable code (no matching transaction, unknown card, ...)."""

    def __init__(self, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = dict(details or {})


class ActionsPort(Protocol):
    def run(
        self,
        name: str,
        *,
        customer_ref: str,
        params: Mapping[str, Any],
        conversation_id: str,
        confirmed: bool,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        """Run an action; the result is JSON-safe (money as decimal strings). Raises ActionFailed."""
        ...

    def choices(self, kind: str, *, customer_ref: str) -> list[dict[str, Any]]:
        """What the customer can choose between for a slot: their cards, credit cards, accounts, plans."""
        ...


@dataclass(frozen=True, slots=True)
class CodeSent:
    destination: str
    valid_minutes: int


@dataclass(frozen=True, slots=True)
class CodeCheck:
    status: Literal["verified", "wrong_code", "expired", "locked", "no_challenge"]
    attempts_left: int = 0
    locked_until: datetime | None = None


class VerificationFailed(Exception):
    def __init__(self, code: str, locked_until: datetime | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.locked_until = locked_until


class VerificationPort(Protocol):
    code_length: int

    def is_verified(self, *, conversation_id: str, customer_ref: str, now: datetime) -> bool: ...

    def send_code(self, *, conversation_id: str, customer_ref: str, language: str, now: datetime) -> CodeSent:
        """Raises VerificationFailed (identity_locked, resend_too_soon, ...)."""
        ...

    def check_code(self, *, conversation_id: str, code: str, now: datetime) -> CodeCheck: ...

    def find_code(self, text: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """Who is writing, as far as the channel told us."""

    customer_id: str
    customer_ref: str | None
    profile: Customer | None
    open_issues: tuple[Any, ...] = field(default_factory=tuple)
