"""The model registry's JSON API (`/console/api/models/...`), for supervisors and admins: the
versions with their reports and the gate, shadow runs, promotion (with an audited override when
the gate refuses) and rollback. Only supervisors read the customer messages (masked) a shadow run
disagreed on: admins run the system and see no customer text.

Routes are thin: `helixdesk.learning.registry` checks, stores and audits. Computing a report the
registry has not kept yet (a few seconds) runs on a worker thread.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Query
from pydantic import Field

from helixdesk.audit.context import staff_actor
from helixdesk.core.inputs import Input
from helixdesk.edge.deps import ModelManagerDep, ModelWatchDep, RegistryDep, SupervisorDep
from helixdesk.edge.http import ERROR_RESPONSES

router = APIRouter(prefix="/console/api/models", tags=["models"], responses=ERROR_RESPONSES)

Version = Annotated[
    str, Path(min_length=4, max_length=64, description="A version or a unique beginning of it.")
]


class PromoteIn(Input):
    override: bool = Field(
        default=False, description="Promote although the gate refuses it (needs a reason)."
    )
    reason: str = Field(
        default="", max_length=500, description="Why (kept in the audit log; 4+ characters with an override)."
    )


class ReasonIn(Input):
    reason: str = Field(default="", max_length=500)


@router.get("")
async def versions(registry: RegistryDep, watch: ModelWatchDep, _user: ModelManagerDep) -> dict[str, Any]:
    """Every version, newest first; the running shadow run; what this server process serves."""
    found = await anyio.to_thread.run_sync(registry.versions)
    runs = await anyio.to_thread.run_sync(registry.shadow_runs)
    return {
        "models": [v.to_dict() for v in found],
        "shadow": next((r for r in runs if r["stopped_at"] is None), None),
        "serving": watch.serving.get("intent"),
        "tolerance": registry.tolerance,
    }


@router.get("/{version}")
async def model(version: Version, registry: RegistryDep, _user: ModelManagerDep) -> dict[str, Any]:
    """A version, its report on the regression set, the gate against the live model, its shadow runs."""

    def read() -> dict[str, Any]:
        found = registry.get(version)
        return {
            "model": found.to_dict(),
            "report": registry.report(found.version),
            "gate": registry.check_gate(found.version).to_dict(),
            "shadow_runs": registry.shadow_runs(found.version),
        }

    return await anyio.to_thread.run_sync(read)


@router.get("/{version}/disagreements")
async def disagreements(
    version: Version,
    registry: RegistryDep,
    _user: SupervisorDep,
    limit: int = Query(default=100, ge=1, le=500),
) -> dict[str, Any]:
    """The customer messages (masked) the version's shadow runs understood differently from the live model."""
    found = await anyio.to_thread.run_sync(lambda: registry.disagreements(version, limit=limit))
    return {"disagreements": found}


@router.post("/{version}/shadow")
async def shadow(version: Version, registry: RegistryDep, user: ModelManagerDep) -> dict[str, Any]:
    """The version parses live traffic beside the live model from now on (stops any other run)."""
    return await anyio.to_thread.run_sync(lambda: registry.start_shadow(version, actor=staff_actor(user.id)))


@router.post("/shadow/stop")
async def stop_shadow(registry: RegistryDep, user: ModelManagerDep) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(lambda: registry.stop_shadow(actor=staff_actor(user.id)))


@router.post("/{version}/promote")
async def promote(
    version: Version, body: PromoteIn, registry: RegistryDep, user: ModelManagerDep
) -> dict[str, Any]:
    """Make the version live (`model_gate_failed` when it is worse on the regression set, unless
    `override` with a `reason`); every server process loads it within `learning_reload_seconds`."""
    promoted = await anyio.to_thread.run_sync(
        lambda: registry.promote(
            version, actor=staff_actor(user.id), override=body.override, reason=body.reason
        )
    )
    return promoted.to_dict()


@router.post("/rollback")
async def rollback(body: ReasonIn, registry: RegistryDep, user: ModelManagerDep) -> dict[str, Any]:
    """Make the version live before the live one live again."""
    back = await anyio.to_thread.run_sync(
        lambda: registry.rollback(actor=staff_actor(user.id), reason=body.reason)
    )
    return back.to_dict()
