"""Drift of the bot's understanding in the console (`helixdesk.drift` does the work):

- `GET /console/api/analytics/drift`: the judgement of every day of a period (the analytics'
  `period`, or `from` and `to`) for a scope (`all` or a language), with the period's alarms and
  the latest weekly retraining run; supervisors and managers (the analytics page);
- `GET /console/api/drift/alarms`: the alarms (open by default), the latest day first; supervisors
  and managers (the supervisor's board);
- `POST /console/api/drift/alarms/{id}/resolve`: a supervisor has looked into it (with a note).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query
from pydantic import Field

from helixdesk.core.inputs import Input
from helixdesk.edge.console.analytics_api import DAY
from helixdesk.edge.deps import AnalyticsDep, AnalyticsReaderDep, DriftBoardDep, SupervisorDep
from helixdesk.edge.http import ERROR_RESPONSES

router = APIRouter(prefix="/console/api", tags=["drift"], responses=ERROR_RESPONSES)
Scope = Literal["all", "zh-Hans", "zh-Hant", "en"]


class ResolveIn(Input):
    note: str = Field(default="", max_length=1000)


@router.get("/analytics/drift")
async def drift_days(
    analytics: AnalyticsDep,
    board: DriftBoardDep,
    _user: AnalyticsReaderDep,
    period: Annotated[
        str | None, Query(pattern=r"^(day|week|month|custom)?$", description="day, week, month or custom")
    ] = None,
    first: Annotated[
        str | None, Query(alias="from", pattern=DAY, description="first day, YYYY-MM-DD")
    ] = None,
    last: Annotated[str | None, Query(alias="to", pattern=DAY, description="last day, YYYY-MM-DD")] = None,
    scope: Annotated[Scope, Query(description="all, or one language")] = "all",
) -> dict[str, Any]:
    """Each day's drift measures against its reference, the period's alarms, the latest retraining."""
    days, _ = analytics.query(period or None, first or None, last or None)
    return await anyio.to_thread.run_sync(lambda: board.days(days.first, days.last, scope=scope))


@router.get("/drift/alarms")
async def drift_alarms(
    board: DriftBoardDep,
    _user: AnalyticsReaderDep,
    status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(lambda: board.alarms(status=status, limit=limit))
    return {"alarms": found}


@router.post("/drift/alarms/{alarm_id}/resolve")
async def resolve_drift_alarm(
    alarm_id: str, body: ResolveIn, board: DriftBoardDep, user: SupervisorDep
) -> dict[str, Any]:
    """A supervisor has looked into the alarm; its day joins later days' references again."""
    return await anyio.to_thread.run_sync(lambda: board.resolve(alarm_id, user.id, note=body.note))
