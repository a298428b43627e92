"""What the conversation service needs from the packages above it, as small protocols (the edge
wires the real ones): queueing a conversation for a person, and telling the outbox relay to publish."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from helixdesk.conversations.store import StoredMessage
from helixdesk.conversations.writer import Writable
from helixdesk.dialogue.context import CustomerContext
from helixdesk.dialogue.effects import HandOver


class Handovers(Protocol):
    """Queues a conversation for a person (the handoff package does it): worked out before the
    turn's transaction, stored inside it."""

    def prepare(
        self,
        conversation_id: str,
        handover: HandOver,
        *,
        customer: CustomerContext,
        language: str | None,
        verified: bool,
        now: datetime,
        pending: Sequence[StoredMessage] = (),
    ) -> Any: ...

    def store(self, s: Session, conv: Writable, prepared: Any) -> None: ...

    def queue(
        self,
        s: Session,
        conv: Writable,
        handover: HandOver,
        *,
        customer: CustomerContext,
        verified: bool,
        now: datetime,
    ) -> None: ...


class RelayPoke(Protocol):
    def poke(self) -> None: ...
