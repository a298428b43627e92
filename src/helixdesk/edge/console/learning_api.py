"""The labelling queue's JSON API (`/console/api/learning/...`): annotators and supervisors read
the next item and label it, and read the dataset versions (supervisors make one); agents flag a
customer message of a conversation they may open that they saw the bot misunderstand.

Routes are thin: `helixdesk.learning.queue` and `.datasets` check and store. A label's intent,
emotion and entity types are the pack's (`invalid_label` names the field that is not); every
unsafe call carries the session's CSRF token, as every console call does.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Query
from pydantic import Field

from helixdesk.audit.context import staff_actor
from helixdesk.core.inputs import Input
from helixdesk.edge.deps import (
    AgentDep,
    AnnotatorDep,
    DatasetsDep,
    LabellingDep,
    SupervisorDep,
    WorkspaceDep,
)
from helixdesk.edge.http import ERROR_RESPONSES

router = APIRouter(prefix="/console/api/learning", tags=["learning"], responses=ERROR_RESPONSES)

ItemId = Annotated[str, Path(min_length=1, max_length=36)]
Code = Annotated[str, Field(min_length=1, max_length=64)]


class SpanIn(Input):
    type: str = Field(max_length=32, description="An entity type: money, currency, date, card_tail, ...")
    start: int = Field(
        ge=0, le=100_000, description="Offset of the span's first character in the (masked) message."
    )
    end: int = Field(ge=1, le=100_000, description="Offset after its last character.")


class LabelIn(Input):
    intent: Code = Field(description="One of the pack's intents, or out_of_scope.")
    emotion: Code = Field(
        description="joy, trust, fear, surprise, sadness, disgust, anger, anticipation or neutral."
    )
    entities: list[SpanIn] = Field(default_factory=list, max_length=20)


class FlagIn(Input):
    conversation_id: str = Field(min_length=1, max_length=36)
    seq: int = Field(ge=1, le=2**31 - 1, description="The customer message's number in the conversation.")
    intent: Code | None = Field(
        default=None, description="What the customer meant (one of the pack's intents)."
    )
    note: str = Field(default="", max_length=500)


class SnapshotIn(Input):
    note: str = Field(default="", max_length=500, description="Why this version (kept with it).")


@router.get("/queue")
async def queue(labelling: LabellingDep, user: AnnotatorDep) -> dict[str, Any]:
    """Items per status and per reason, and the ones this person labels next (at most 50)."""
    counts = await anyio.to_thread.run_sync(labelling.counts)
    waiting = await anyio.to_thread.run_sync(lambda: labelling.waiting(user))
    return {**counts, "waiting": waiting}


@router.get("/items/next")
async def next_item(
    labelling: LabellingDep,
    user: AnnotatorDep,
    skip: str = Query(default="", max_length=8000, description="Item ids to pass over, comma-separated."),
) -> dict[str, Any]:
    """The next item for this person (`item: null` when none waits)."""
    passed = [s for s in skip.split(",") if s][:200]
    item = await anyio.to_thread.run_sync(lambda: labelling.next_item(user, skip=passed))
    return {"item": item.to_dict() if item is not None else None}


@router.get("/items/{item_id}")
async def item(item_id: ItemId, labelling: LabellingDep, user: AnnotatorDep) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(labelling.item, user, item_id)
    return found.to_dict()


@router.post("/items/{item_id}/labels")
async def label(
    item_id: ItemId, body: LabelIn, labelling: LabellingDep, user: AnnotatorDep
) -> dict[str, Any]:
    """Confirm or correct what the models made of the message; returns the item as it stands now."""
    value = body.model_dump()
    found = await anyio.to_thread.run_sync(lambda: labelling.submit(user, item_id, value))
    return found.to_dict()


@router.post("/flags")
async def flag(
    body: FlagIn, labelling: LabellingDep, workspace: WorkspaceDep, user: AgentDep
) -> dict[str, Any]:
    """The bot misunderstood this customer message: it goes to the labelling queue (`flagged`)."""
    await anyio.to_thread.run_sync(workspace.check_access, user, body.conversation_id)
    found = await anyio.to_thread.run_sync(
        lambda: labelling.flag(user, body.conversation_id, body.seq, intent=body.intent, note=body.note)
    )
    return {"item_id": found.id, "status": found.status, "reasons": found.reasons}


@router.get("/datasets")
async def datasets(store: DatasetsDep, _user: AnnotatorDep) -> dict[str, Any]:
    """Every dataset version, newest first."""
    found = await anyio.to_thread.run_sync(store.versions)
    return {"datasets": [d.to_dict() for d in found]}


@router.post("/datasets")
async def snapshot(body: SnapshotIn, store: DatasetsDep, user: SupervisorDep) -> dict[str, Any]:
    """A new immutable version of every resolved label (the newest, when none changed)."""
    view, created = await anyio.to_thread.run_sync(
        lambda: store.snapshot(actor=staff_actor(user.id), note=body.note)
    )
    return {"dataset": view.to_dict(), "created": created}
