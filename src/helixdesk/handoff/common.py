"""What the handoff use cases share: their collaborators, the open handoff of a conversation, ending a
person's part, and the audit entry of what a person did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.audit.context import staff_actor
from helixdesk.auth.service import StaffView
from helixdesk.bus import outbox
from helixdesk.conversations.models import Conversation, ConversationState, Customer
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.events import HandoffEnded
from helixdesk.handoff.errors import NotYourConversationError
from helixdesk.handoff.models import OPEN_STATUSES, Handoff, HandoffStatus
from helixdesk.handoff.packet import Labels
from helixdesk.handoff.policy import HandoffPolicy
from helixdesk.llm.assistant import Assistant
from helixdesk.nlg.templates import Templates


class RelayPoke(Protocol):
    def poke(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Desk:
    """The collaborators of every handoff use case."""

    sessions: sessionmaker[Session]
    writer: ConversationWriter
    policy: HandoffPolicy
    templates: Templates
    labels: Labels
    audit: AuditLog | None = None
    relay: RelayPoke | None = None
    abandon_issue_after_days: int = 30
    # The optional LLM (docs/llm.md): a summary beside the extractive one when a bot hands over.
    assistant: Assistant | None = None

    def committed(self) -> None:
        """Something was written: let the outbox relay publish its events now."""
        if self.relay is not None:
            self.relay.poke()


def active_handoff(s: Session, conversation_id: str) -> Handoff | None:
    return s.scalar(
        select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
    )


def own(s: Session, user: StaffView, conversation_id: str) -> Handoff:
    """The handoff this person (or a supervisor) is handling in this conversation."""
    handoff = active_handoff(s, conversation_id)
    if handoff is None or handoff.status != HandoffStatus.ACTIVE.value:
        raise NotYourConversationError("nobody has claimed this conversation; claim it first")
    if handoff.agent_id != user.id and not user.is_supervisor:
        raise NotYourConversationError("another person is handling this conversation")
    return handoff


def end(
    desk: Desk,
    s: Session,
    current: Handoff,
    conv: Conversation,
    status: Literal["transferred", "handed_back", "closed"],
    new_state: ConversationState,
    now: datetime,
    *,
    queue: str | None = None,
) -> None:
    """End the person's part and move the conversation on (in the caller's transaction).

    A handoff still waiting (a supervisor reassigns it) ends without a person's part: the
    conversation stays waiting for a person, now in the new queue."""
    was_waiting = current.status == HandoffStatus.WAITING.value
    current.status = status
    current.closed_at = now
    outbox.record(
        s,
        [
            HandoffEnded(
                conversation_id=conv.id,
                handoff_id=current.id,
                queue=current.queue,
                status=status,
                agent_id=current.agent_id,
                disposition=current.disposition,
                resolution=current.resolution,
            )
        ],
    )
    if not (was_waiting and new_state == ConversationState.WAITING_FOR_AGENT):
        desk.writer.change_state(s, conv, new_state, reason=status, queue=queue)


def record(
    desk: Desk,
    s: Session,
    user: StaffView,
    action: str,
    conversation_id: str,
    *,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """An audit entry for what a person did in a conversation (inside the caller's transaction)."""
    record_as(desk, s, staff_actor(user.id), action, conversation_id, reason=reason, details=details)


def record_as(
    desk: Desk,
    s: Session,
    actor: Actor,
    action: str,
    conversation_id: str,
    *,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """An audit entry for what `actor` (a person, or a job such as a strategy) did in a conversation."""
    if desk.audit is None:
        return
    ref = s.scalar(
        select(Customer.bank_ref)
        .join(Conversation, Conversation.customer_id == Customer.id)
        .where(Conversation.id == conversation_id)
    )
    desk.audit.record(
        s,
        actor=actor,
        action=action,
        target=Target.conversation(conversation_id),
        reason=reason,
        details=details,
        customer_ref=ref,
    )
