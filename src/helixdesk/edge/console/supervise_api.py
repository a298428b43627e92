"""Interventions in a conversation going badly (`/console/api/...`): reassign it, whisper to the
agent, approve goodwill compensation within the pack's limits, create follow-up tasks.

Routes are thin: `helixdesk.handoff.transfer` (reassign), `.whisper`, `.goodwill` and `.follow_up`
do the work and check who may do what (`supervisor_only`, 403, for what only supervisors may do).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import anyio
from fastapi import APIRouter
from pydantic import Field, WithJsonSchema

from helixdesk.core.inputs import Input
from helixdesk.edge.deps import AgentDep, FollowUpsDep, GoodwillDep, StaffDep, TransfersDep, WhispersDep
from helixdesk.edge.http import ERROR_RESPONSES, NON_BLANK_TEXT

router = APIRouter(prefix="/console/api", tags=["supervision"], responses=ERROR_RESPONSES)


class ReassignIn(Input):
    queue: str | None = Field(
        default=None, max_length=32, description="fraud, senior, relationship_manager, general"
    )
    to_username: str | None = Field(default=None, max_length=64, description="A colleague who is online.")
    note: str = Field(default="", max_length=1000)


class WhisperIn(Input):
    text: str = Field(min_length=1, max_length=2000, pattern=NON_BLANK_TEXT)


class GoodwillIn(Input):
    amount: Annotated[
        Decimal,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", "exclusiveMinimum": 0, "maximum": 1e9, "multipleOf": 0.01},
                    {"type": "string", "pattern": r"^(?!0+(\.0+)?$)[0-9]{1,9}(\.[0-9]{1,2})?$"},
                ],
                "description": "In the pack's goodwill currency (up to 2 decimals).",
            }
        ),
    ] = Field(gt=0, le=Decimal(10**9))
    reason: str = Field(min_length=1, max_length=32, description="One of the pack's goodwill reasons.")
    note: str = Field(default="", max_length=1000)


class DecisionIn(Input):
    note: str = Field(default="", max_length=1000)


class FollowUpIn(Input):
    title: str = Field(min_length=1, max_length=200, pattern=NON_BLANK_TEXT)
    due_at: datetime = Field(description="When it is due; without a zone, the bank's local time.")
    owner: str | None = Field(default=None, max_length=64, description="The owner's user name (default: me).")


# ---- reassign and whisper -----------------------------------------------------------------------


@router.post("/conversations/{conversation_id}/reassign")
async def reassign(
    conversation_id: str, body: ReassignIn, transfers: TransfersDep, user: StaffDep
) -> dict[str, str]:
    """A supervisor moves a conversation (waiting, or with someone else) to a queue or a colleague."""
    await transfers.reassign(
        user, conversation_id, queue=body.queue or None, to_username=body.to_username or None, note=body.note
    )
    return {"state": "waiting_for_agent"}


@router.post("/conversations/{conversation_id}/whisper")
async def whisper(
    conversation_id: str, body: WhisperIn, whispers: WhispersDep, user: StaffDep
) -> dict[str, Any]:
    """A note to the agent handling the conversation, shown live in their console only."""
    return await whispers.whisper(user, conversation_id, body.text)


# ---- goodwill -----------------------------------------------------------------------------------


@router.get("/goodwill/policy")
async def goodwill_policy(goodwill: GoodwillDep, _user: AgentDep) -> dict[str, Any]:
    """The pack's goodwill limits and reasons (`offered: false` when the pack offers none)."""
    policy = goodwill.policy
    return {"offered": False} if policy is None else {"offered": True, **policy.view()}


@router.get("/goodwill")
async def goodwill_waiting(goodwill: GoodwillDep, user: StaffDep) -> dict[str, Any]:
    """Requests waiting for a supervisor's decision."""
    return {"goodwill": await anyio.to_thread.run_sync(goodwill.waiting, user)}


@router.get("/conversations/{conversation_id}/goodwill")
async def goodwill_of(conversation_id: str, goodwill: GoodwillDep, user: StaffDep) -> dict[str, Any]:
    return {"goodwill": await anyio.to_thread.run_sync(goodwill.for_conversation, user, conversation_id)}


@router.post("/conversations/{conversation_id}/goodwill")
async def grant_goodwill(
    conversation_id: str, body: GoodwillIn, goodwill: GoodwillDep, user: AgentDep
) -> dict[str, Any]:
    """Approve (a supervisor; an agent up to the agent limit) or ask for a goodwill credit."""
    return await goodwill.grant(user, conversation_id, amount=body.amount, reason=body.reason, note=body.note)


@router.post("/goodwill/{credit_id}/approve")
async def approve_goodwill(credit_id: str, goodwill: GoodwillDep, user: StaffDep) -> dict[str, Any]:
    return await goodwill.approve(user, credit_id)


@router.post("/goodwill/{credit_id}/reject")
async def reject_goodwill(
    credit_id: str, body: DecisionIn, goodwill: GoodwillDep, user: StaffDep
) -> dict[str, Any]:
    return await goodwill.reject(user, credit_id, note=body.note)


# ---- follow-ups ---------------------------------------------------------------------------------


@router.get("/follow-ups")
async def my_follow_ups(follow_ups: FollowUpsDep, user: StaffDep) -> dict[str, Any]:
    """My open follow-up tasks, the soonest due first."""
    return {"follow_ups": await anyio.to_thread.run_sync(lambda: follow_ups.mine(user))}


@router.get("/conversations/{conversation_id}/follow-ups")
async def follow_ups_of(conversation_id: str, follow_ups: FollowUpsDep, user: StaffDep) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(follow_ups.for_conversation, user, conversation_id)
    return {"follow_ups": found}


@router.post("/conversations/{conversation_id}/follow-ups")
async def create_follow_up(
    conversation_id: str, body: FollowUpIn, follow_ups: FollowUpsDep, user: AgentDep
) -> dict[str, Any]:
    """A follow-up task on the customer: raised by the bot when they come back, on any channel."""
    return await anyio.to_thread.run_sync(
        lambda: follow_ups.create(
            user, conversation_id, title=body.title, due_at=body.due_at, owner_username=body.owner or None
        )
    )


@router.post("/follow-ups/{issue_id}/done")
async def follow_up_done(issue_id: str, follow_ups: FollowUpsDep, user: StaffDep) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(lambda: follow_ups.done(user, issue_id))
