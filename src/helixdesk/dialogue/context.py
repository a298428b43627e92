"""What one turn of the bot knows before it starts: read once, in the transaction that claims the turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from helixdesk.bank.connector import Customer
from helixdesk.dialogue.state import DialogueState
from helixdesk.incidents.rules import Incident
from helixdesk.memory.service import IssueView


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """Who is writing, as far as the channel told us, and what they left open last time."""

    customer_id: str
    customer_ref: str | None
    profile: Customer | None
    open_issues: tuple[IssueView, ...] = field(default_factory=tuple)
    # What the customer holds (`helixdesk.incidents.products`), read only when an incident to tell
    # names products; None: not read (an anonymous visitor, or no such incident).
    products: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class TurnContext:
    conversation_id: str
    message_id: str  # the customer message this turn answers
    language: str | None  # the conversation's language so far
    customer: CustomerContext
    state: DialogueState  # as stored; `decide` works on its own copy
    verified: bool  # the customer's identity was verified in this conversation when the turn began
    now: datetime
    channel: str | None = None  # the conversation's channel (web, app, wechat, ...)
    # The incidents active when the turn was claimed (`helixdesk.incidents`); decide tells an
    # affected customer about them first.
    incidents: tuple[Incident, ...] = ()
