"""The lifecycle strategies' JSON API (`/console/api/lifecycle`), for supervisors and admins: list the
bank's active strategies, open one with its versions, replace one (validated within the bank's
limits, versioned and audited), and preview what a customer would be offered. A strategy's effect
against its holdout group and the touches counted by arm and status are also open to managers (the
analytics' readers): `helixdesk.analytics.strategy_effect` measures them.

Routes are thin: `helixdesk.lifecycle.store` checks and stores; `helixdesk.lifecycle.recommend`
matches and asks the suitability gate last. Every unsafe call carries the session's CSRF token
(`X-CSRF-Token`), as every console call does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query, Request
from pydantic import BeforeValidator, Field, StrictBool
from pydantic_core import PydanticCustomError

from helixdesk.core.inputs import Input
from helixdesk.edge.deps import (
    AnalyticsDep,
    ContainerDep,
    StrategiesDep,
    StrategyEditorDep,
    StrategyEffectReaderDep,
    client_ip,
)
from helixdesk.edge.http import ERROR_RESPONSES
from helixdesk.lifecycle.recommend import Snapshot, recommend
from helixdesk.lifecycle.store import Editor

router = APIRouter(prefix="/console/api/lifecycle", tags=["lifecycle"], responses=ERROR_RESPONSES)

StrategyId = Annotated[str, Path(min_length=1, max_length=64)]
Code = Annotated[str, Field(max_length=40)]


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "give a number, not true or false")
    return value


Day = Annotated[str | None, Query(max_length=10, description="A day, YYYY-MM-DD, in the bank's time zone.")]
Age = Annotated[int, Field(ge=0, le=130), BeforeValidator(_not_a_bool)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_not_a_bool)]


class StrategyEdit(Input):
    definition: dict[str, Any] = Field(
        description="The whole strategy (when, what, texts, where, enabled) as in the pack's "
        "lifecycle/strategies.yaml; its id, if given, must be the one in the path."
    )
    version: Version | None = Field(
        default=None, description="The version you read (refused if it moved on)."
    )


class PreviewIn(Input):
    """A customer as the strategies and the gate see them (no profile is read). A flag is true or
    false, never a number taken as one."""

    stage: Literal["exploration", "formation", "stability", "decline"] | None = None
    churn_band: Literal["low", "medium", "high"] | None = None
    interests: list[Code] = Field(default_factory=list, max_length=20)
    risk_tolerance: Code | None = None
    age: Age | None = None
    vulnerable: StrictBool = False
    open_complaint: StrictBool = False
    fraud_report: StrictBool = False
    trigger: Literal["complaint_resolved", "anniversary", "conversation"] | None = None
    where: Literal["bot", "console"] | None = None


@router.get("/strategies")
async def list_strategies(store: StrategiesDep, _user: StrategyEditorDep) -> dict[str, Any]:
    """The active strategies in order, each with its version; the bank's limit per offer."""
    found = await anyio.to_thread.run_sync(store.strategies)
    return {"limits": store.limits.model_dump(mode="json"), "strategies": found}


@router.get("/strategies/{strategy_id}")
async def get_strategy(
    strategy_id: StrategyId, store: StrategiesDep, _user: StrategyEditorDep
) -> dict[str, Any]:
    """One strategy with every version of it (newest first: who, when, the whole definition)."""
    return await anyio.to_thread.run_sync(store.get, strategy_id)


@router.get("/strategies/{strategy_id}/effect")
async def strategy_effect(
    strategy_id: StrategyId,
    store: StrategiesDep,
    analytics: AnalyticsDep,
    _user: StrategyEffectReaderDep,
    since: Day = None,
    until: Day = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """The strategy's touched arm against its holdout arm (the touches from `since` to `until`, of
    one `version` or all): satisfaction, retention and product growth, each with both means, the
    difference, its 95% interval and a verdict."""
    await anyio.to_thread.run_sync(store.seed)
    return await anyio.to_thread.run_sync(
        lambda: analytics.strategy_effect(strategy_id, since=since, until=until, version=version)
    )


@router.get("/touches")
async def touches(
    analytics: AnalyticsDep,
    _user: StrategyEffectReaderDep,
    since: Day = None,
    until: Day = None,
) -> dict[str, Any]:
    """Every strategy's touches from `since` to `until`, counted by arm and status."""
    counted = await anyio.to_thread.run_sync(lambda: analytics.touch_counts(since=since, until=until))
    return {"since": since, "until": until, "strategies": counted}


@router.put("/strategies/{strategy_id}")
async def update_strategy(
    request: Request,
    strategy_id: StrategyId,
    body: StrategyEdit,
    store: StrategiesDep,
    user: StrategyEditorDep,
) -> dict[str, Any]:
    """Replace the strategy; stored as a new version with an audit entry (`lifecycle.strategy_updated`)."""
    editor = Editor(user.id, user.display_name, ip=client_ip(request))
    return await anyio.to_thread.run_sync(
        lambda: store.update(editor, strategy_id, body.definition, version=body.version)
    )


@router.post("/recommendations/preview")
async def preview(
    body: PreviewIn, store: StrategiesDep, container: ContainerDep, _user: StrategyEditorDep
) -> dict[str, Any]:
    """What the active strategies would offer this customer, each with why, and what the
    suitability gate holds back (with its rule)."""
    snap = Snapshot(
        ref="preview",
        stage=body.stage,
        churn_band=body.churn_band,
        interests=tuple(body.interests),
        risk_tolerance=body.risk_tolerance,
        age=body.age,
        vulnerable=body.vulnerable,
        open_complaint=body.open_complaint,
        fraud_report=body.fraud_report,
    )
    active = await anyio.to_thread.run_sync(store.active)
    policy = container.config.dialogue.suitability
    return recommend(snap, active.strategies, policy, trigger=body.trigger, where=body.where).to_dict()
