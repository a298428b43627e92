"""The customer profile beside a conversation: `GET /console/api/conversations/{id}/customer-profile`.

For staff who may open the conversation (the workspace's `check_access`). The profile itself is the
lifecycle's (`helixdesk.lifecycle.profiles`); the conversation signals it reads (the intents of the
customer's recent messages, their messages' average length, whether a complaint or a fraud report
is under way) come from `helixdesk.conversations.signals`, because the lifecycle does not read
conversations. With it come the recommendations of the active strategies for the console, after the
suitability gate (`helixdesk.lifecycle.recommend`), and what the gate held back with its rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, tzinfo
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.signals import bank_ref_of, complaint_and_fraud, conversation_signals
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError
from helixdesk.db.session import reading
from helixdesk.edge.deps import (
    BankZoneDep,
    ContainerDep,
    ProfilesDep,
    SessionsDep,
    StaffDep,
    StrategiesDep,
    WorkspaceDep,
)
from helixdesk.edge.http import ERROR_RESPONSES
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.recommend import Recommendations, moment, recommend
from helixdesk.lifecycle.store import StrategyStore
from helixdesk.lifecycle.strategies import StrategySet
from helixdesk.lifecycle.suitability import SuitabilityPolicy

router = APIRouter(prefix="/console/api", tags=["agent console"], responses=ERROR_RESPONSES)

ConversationId = Annotated[str, Path(min_length=1, max_length=36)]


# The place the console's recommendations are for (a strategy's `where`); the moment (its `triggers`)
# is the conversation, or the customer's anniversary (`recommend.moment`).
WHERE = "console"


@dataclass(frozen=True, slots=True)
class Sources:
    """What a profile with its recommendations is read from."""

    sessions: sessionmaker[Session]
    profiles: CustomerProfiles
    strategies: StrategyStore
    policy: SuitabilityPolicy
    abandon_after_days: int
    tz: tzinfo


def offers(found: Recommendations, active: StrategySet) -> dict[str, Any]:
    """The recommendations as `recommend` gives them; each one withheld with the gate's rule and, so
    that a page can name it in its language, the strategy's kind, item, value and texts."""
    out = found.to_dict()
    for entry in out["withheld"]:
        strategy = active.get(entry["strategy_id"])
        if strategy is not None:
            what = strategy.what
            entry["kind"] = what.kind
            entry["item"] = what.item.model_dump(exclude_none=True)
            entry["value"] = None if what.value is None else str(what.value)
            entry["texts"] = dict(strategy.texts)
    return out


def read_profile(src: Sources, conversation_id: str) -> dict[str, Any]:
    now = utcnow()
    with reading(src.sessions) as s:
        customer_id, ref = bank_ref_of(s, conversation_id)
        signals = conversation_signals(s, customer_id, now=now)
        under_way = complaint_and_fraud(
            s, conversation_id, customer_id, now=now, abandon_after_days=src.abandon_after_days
        )
    today: date = now.astimezone(src.tz).date()
    view = src.profiles.read(ref, signals, today=today)
    if view is None:
        raise NotFoundError(f"the bank has no customer {ref!r}", code="customer_not_found")
    snapshot = replace(
        view.snapshot, open_complaint=under_way.open_complaint, fraud_report=under_way.fraud_report
    )
    active = src.strategies.active()
    found = recommend(
        snapshot, active.strategies, src.policy, trigger=moment(view.customer_since, today), where=WHERE
    )
    gate = {"open_complaint": under_way.open_complaint, "fraud_report": under_way.fraud_report}
    return view.profile | offers(found, active) | {"suitability": gate}


@router.get("/conversations/{conversation_id}/customer-profile")
async def customer_profile(
    conversation_id: ConversationId,
    sessions: SessionsDep,
    workspace: WorkspaceDep,
    profiles: ProfilesDep,
    strategies: StrategiesDep,
    container: ContainerDep,
    tz: BankZoneDep,
    user: StaffDep,
) -> dict[str, Any]:
    """The conversation's customer: profile, lifecycle stage with its rule, churn risk and its
    reasons, and what the active strategies suggest for them in the console.

    Every field says where it came from (`source`) and how (`why`). Without a trained churn model
    `churn_risk.value` is null and `churn_risk.why` says so. `recommendations` passed the
    suitability gate; `withheld` lists what it held back with its rule (`blocked` while a complaint
    or a fraud report is under way: `suitability` says which)."""
    await anyio.to_thread.run_sync(workspace.check_access, user, conversation_id)
    dialogue = container.config.dialogue
    src = Sources(
        sessions=sessions,
        profiles=profiles,
        strategies=strategies,
        policy=dialogue.suitability,
        abandon_after_days=dialogue.policies.settings.abandon_issue_after_days,
        tz=tz,
    )
    return await anyio.to_thread.run_sync(read_profile, src, conversation_id)
