"""Quality monitoring in the console: the live check of an agent's draft, and supervisors' alerts.

- `POST /console/api/conversations/{id}/check-draft`: the findings of the pack's rules on a draft
  (span, why, sources, a compliant alternative), for the agent typing it.
- `GET /console/api/alerts`: quality alerts (open by default), newest first, in the viewer's
  language; new ones arrive on the console's event stream as `quality.alert`.
- `POST /console/api/alerts/{id}/acknowledge`: a supervisor takes it in hand (or resolves it).
"""

from __future__ import annotations

from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query
from pydantic import Field

from helixdesk.core.inputs import Input
from helixdesk.edge.deps import AlertBoardDep, DraftCheckDep, StaffDep, SupervisorDep, WorkspaceDep
from helixdesk.edge.http import ERROR_RESPONSES
from helixdesk.quality.live import MAX_DRAFT

router = APIRouter(prefix="/console/api", tags=["quality monitoring"], responses=ERROR_RESPONSES)


class DraftIn(Input):
    text: str = Field(max_length=MAX_DRAFT)


class AcknowledgeIn(Input):
    note: str = Field(default="", max_length=1000)
    resolve: bool = False


@router.post("/conversations/{conversation_id}/check-draft")
async def check_draft(
    conversation_id: str, body: DraftIn, checker: DraftCheckDep, workspace: WorkspaceDep, user: StaffDep
) -> dict[str, Any]:
    """What the compliance rules say about a message before it is sent."""
    await anyio.to_thread.run_sync(workspace.check_access, user, conversation_id)
    found = await anyio.to_thread.run_sync(
        lambda: checker.check(conversation_id, body.text, user.ui_language)
    )
    return {"findings": [f.to_dict() for f in found]}


@router.get("/alerts")
async def alerts(
    board: AlertBoardDep,
    user: SupervisorDep,
    status: Literal["open", "acknowledged", "resolved", "all"] = Query(default="open"),
    limit: int = Query(default=100, ge=1, le=500),
) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(
        lambda: board.list(status=None if status == "all" else status, language=user.ui_language, limit=limit)
    )
    return {"alerts": found}


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: str, body: AcknowledgeIn, board: AlertBoardDep, user: SupervisorDep
) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(
        lambda: board.acknowledge(alert_id, user.id, note=body.note, resolve=body.resolve)
    )
