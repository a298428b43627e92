"""The context of one bot turn, read once.

In the transaction that claims the turn (`helixdesk.conversations.turns`), `read_claimed` reads what
the database holds for it: the dialogue state (read by the caller), the customer's open issues from
earlier contacts, and the incidents active now. After the message is understood, `turn_context`
adds what the bank and identity services know: the customer's profile, whether they are verified
in this conversation, and (only when an incident still to tell names products) what they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from helixdesk.bank.connector import BankConnector
from helixdesk.conversations.writer import LockedConversation
from helixdesk.dialogue.context import CustomerContext, TurnContext
from helixdesk.dialogue.state import DialogueState
from helixdesk.identity import VerificationService
from helixdesk.incidents.products import customer_products
from helixdesk.incidents.register import active_incidents
from helixdesk.incidents.rules import Incident
from helixdesk.memory.service import IssueView, open_issues


@dataclass(frozen=True, slots=True)
class Claimed:
    """What the claiming transaction read for the turn."""

    customer_id: str
    customer_ref: str | None
    language: str | None
    channel: str
    dialogue: DialogueState
    issues: tuple[IssueView, ...]
    incidents: tuple[Incident, ...] = ()


def read_claimed(
    s: Session, conv: LockedConversation, dialogue: DialogueState, *, now: datetime, abandon_after_days: int
) -> Claimed:
    """Inside the claiming transaction (the conversation row is locked)."""
    issues: tuple[IssueView, ...] = ()
    if not dialogue.issues_raised:
        issues = tuple(
            open_issues(
                s,
                conv.customer_id,
                now=now,
                abandon_after_days=abandon_after_days,
                exclude_conversation=conv.id,
            )
        )
    return Claimed(
        customer_id=conv.customer_id,
        customer_ref=conv.customer_ref,
        language=conv.language,
        channel=conv.channel,
        dialogue=dialogue,
        issues=issues,
        incidents=active_incidents(s, now),
    )


def turn_context(
    claimed: Claimed,
    *,
    conversation_id: str,
    message_id: str,
    bank: BankConnector,
    identity: VerificationService,
    now: datetime,
) -> TurnContext:
    ref = claimed.customer_ref
    profile = bank.get_customer(ref) if ref is not None else None
    verified = ref is not None and (
        identity.status(conversation_id=conversation_id, customer_ref=ref, now=now).verified
    )
    to_tell = [i for i in claimed.incidents if i.id not in claimed.dialogue.incidents_told]
    products = None
    if ref is not None and profile is not None and any(i.products for i in to_tell):
        products = customer_products(bank, ref, now=now, customer=profile)
    return TurnContext(
        conversation_id=conversation_id,
        message_id=message_id,
        language=claimed.language,
        customer=CustomerContext(
            customer_id=claimed.customer_id,
            customer_ref=ref,
            profile=profile,
            open_issues=claimed.issues,
            products=products,
        ),
        state=claimed.dialogue,
        verified=verified,
        now=now,
        channel=claimed.channel,
        incidents=claimed.incidents,
    )
