"""The customer profile beside a conversation: `GET /console/api/conversations/{id}/customer-profile`.

For staff who may open the conversation (the workspace's `check_access`). The profile itself is the
lifecycle's (`helixdesk.lifecycle.profiles`); the conversation signals it reads (the intents of the
customer's recent messages, their messages' average length) come from
`helixdesk.conversations.signals`, because the lifecycle does not read conversations.
"""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.signals import bank_ref_of, conversation_signals
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError
from helixdesk.db.session import reading
from helixdesk.edge.deps import BankZoneDep, ProfilesDep, SessionsDep, StaffDep, WorkspaceDep
from helixdesk.edge.http import ERROR_RESPONSES
from helixdesk.lifecycle.profiles import CustomerProfiles

router = APIRouter(prefix="/console/api", tags=["agent console"], responses=ERROR_RESPONSES)

ConversationId = Annotated[str, Path(min_length=1, max_length=36)]


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
