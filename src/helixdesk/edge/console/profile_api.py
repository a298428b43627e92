"""The customer profile beside a conversation: `GET /console/api/conversations/{id}/customer-profile`.

For staff who may open the conversation (the workspace's `check_access`). The profile itself is the
lifecycle's (`helixdesk.lifecycle.profiles`); the conversation signals it reads (the intents of the
customer's recent messages, their messages' average length) are gathered here, from the
conversations tables, because the lifecycle does not read conversations.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.errors import ConversationNotFoundError
from helixdesk.conversations.models import Conversation, Customer, Message, Sender
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError
from helixdesk.db.session import reading
from helixdesk.edge.deps import BankZoneDep, ProfilesDep, SessionsDep, StaffDep, WorkspaceDep
from helixdesk.edge.http import ERROR_RESPONSES
from helixdesk.lifecycle.profile import ConversationSignals
from helixdesk.lifecycle.profiles import CustomerProfiles

router = APIRouter(prefix="/console/api", tags=["agent console"], responses=ERROR_RESPONSES)

ConversationId = Annotated[str, Path(min_length=1, max_length=36)]
# The customer's own messages read for the signals: the latest ones, within this many days.
SIGNAL_MESSAGES = 50
SIGNAL_DAYS = 180


class CustomerAnonymousError(NotFoundError):
    """The conversation's customer is not linked to a customer of the bank."""

    code = "customer_anonymous"


def bank_ref_of(s: Session, conversation_id: str) -> tuple[str, str]:
    """The conversation's customer id and bank ref; `customer_anonymous` without a bank ref."""
    conv = s.get(Conversation, conversation_id)
    if conv is None:
        raise ConversationNotFoundError(f"no conversation {conversation_id}")
    customer = s.get(Customer, conv.customer_id)
    if customer is None or customer.bank_ref is None:
        raise CustomerAnonymousError(
            "the conversation's customer is not identified as a customer of the bank"
        )
    return customer.id, customer.bank_ref


def conversation_signals(s: Session, customer_id: str, *, now: datetime) -> ConversationSignals:
    """The intents and lengths of the customer's latest own messages, across their conversations."""
    rows = s.execute(
        select(Message.text, Message.meta)
        .join(Conversation, Message.conversation_id == Conversation.id)
        .where(
            Conversation.customer_id == customer_id,
            Message.sender == Sender.CUSTOMER.value,
            Message.created_at >= now - timedelta(days=SIGNAL_DAYS),
        )
        .order_by(Message.created_at.desc())
        .limit(SIGNAL_MESSAGES)
    ).all()
    intents: list[str] = []
    lengths: list[int] = []
    for text, meta in rows:
        lengths.append(len(text or ""))
        intent = ((meta or {}).get("nlu") or {}).get("intent") or {}
        name = intent.get("name") if isinstance(intent, dict) else None
        if isinstance(name, str) and name not in intents:
            intents.append(name)
    return ConversationSignals(
        intents=tuple(intents),
        messages=len(lengths),
        average_length=sum(lengths) / len(lengths) if lengths else None,
    )


def read_profile(
    sessions: sessionmaker[Session], profiles: CustomerProfiles, conversation_id: str, tz: tzinfo
) -> dict[str, Any]:
    now = utcnow()
    with reading(sessions) as s:
        customer_id, ref = bank_ref_of(s, conversation_id)
        signals = conversation_signals(s, customer_id, now=now)
    today: date = now.astimezone(tz).date()
    profile = profiles.profile(ref, signals, today=today)
    if profile is None:
        raise NotFoundError(f"the bank has no customer {ref!r}", code="customer_not_found")
    return profile


@router.get("/conversations/{conversation_id}/customer-profile")
async def customer_profile(
    conversation_id: ConversationId,
    sessions: SessionsDep,
    workspace: WorkspaceDep,
    profiles: ProfilesDep,
    tz: BankZoneDep,
    user: StaffDep,
) -> dict[str, Any]:
    """The conversation's customer: profile, lifecycle stage with its rule, churn risk and its reasons.

    Every field says where it came from (`source`) and how (`why`). Without a trained churn model
    `churn_risk.value` is null and `churn_risk.why` says so."""
    await anyio.to_thread.run_sync(workspace.check_access, user, conversation_id)
    return await anyio.to_thread.run_sync(read_profile, sessions, profiles, conversation_id, tz)
