"""The incident register's JSON API (`/console/api/incidents`), for operators, supervisors and admins:
list incidents (with how many conversations each one explained), open one (optionally from a
hotspot's spike), change it, resolve it. Operators and supervisors also read the spikes suggested
as incidents (`suggestions`, `helixdesk.insight.spikes`) and dismiss one as "not an incident".

Routes are thin: `helixdesk.incidents.register` checks and stores (every change a version and an
audit entry). The fields' values are checked there, so every refusal of a value carries the one
code `invalid_incident` with a message naming the field. Every unsafe call carries the session's
CSRF token (`X-CSRF-Token`), as every console call does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from helixdesk.core.inputs import Input
from helixdesk.edge.deps import (
    IncidentManagerDep,
    IncidentsDep,
    SpikeReaderDep,
    SpikesDep,
    client_ip,
)
from helixdesk.edge.http import ERROR_RESPONSES
from helixdesk.incidents.checks import IncidentDraft
from helixdesk.incidents.register import Author

router = APIRouter(prefix="/console/api/incidents", tags=["incidents"], responses=ERROR_RESPONSES)

IncidentId = Annotated[str, Path(min_length=1, max_length=36)]
HotspotId = Annotated[str, Path(min_length=1, max_length=200)]  # an unknown one: hotspot_not_found
Text = Annotated[str, StringConstraints(max_length=2000)]
Code = Annotated[str, StringConstraints(max_length=40)]
Region = Annotated[str, StringConstraints(max_length=80)]
Texts = Annotated[
    dict[Code, Text],
    Field(max_length=3, description="Text per language: zh-Hans, zh-Hant and/or en (at least one)."),
]
Products = Annotated[
    list[Code],
    Field(
        max_length=20,
        description="Who holds one of these is affected (none: everyone): mobile_app, transfer, "
        "debit_card, credit_card, savings_account, current_account, time_deposit, payroll, wealth.",
    ),
]
Channels = Annotated[
    list[Code],
    Field(
        max_length=10,
        description="Conversations on these channels are affected (none: every channel): web, app, "
        "api, wechat, social, voice, cli.",
    ),
]
Regions = Annotated[
    list[Region],
    Field(
        max_length=30,
        description="Customers whose city lies in one of these (a city or a province, in Chinese or "
        "English) are affected (none: everywhere).",
    ),
]
KIND = "outage, app_error, delayed_batch or other"


def _iso_text(value: Any) -> Any:
    """Only ISO 8601 text (what the schema says), never a number taken as seconds since 1970."""
    if value is not None and not isinstance(value, str):
        raise ValueError("give an ISO 8601 date-time with a zone, e.g. 2026-12-04T09:30:00+08:00")
    return value


class IncidentIn(Input):
    kind: Code = Field(description=KIND)
    title: Texts
    explanation: Texts
    products: Products = Field(default_factory=list)
    channels: Channels = Field(default_factory=list)
    regions: Regions = Field(default_factory=list)
    started_at: AwareDatetime | None = Field(default=None, description="When it began (default: now).")
    expected_fix_at: AwareDatetime | None = Field(
        default=None, description="When it should be fixed: after `started_at`; none: not known yet."
    )
    status: Literal["open", "monitoring"] = "open"
    hotspot_id: str | None = Field(
        default=None,
        max_length=200,
        description="The insight hotspot whose spike this incident answers: it covers the spike, "
        "which is no longer suggested.",
    )
    note: str = Field(
        default="",
        max_length=400,
        description="For the record (the first version and the audit), not customers.",
    )

    _times = field_validator("started_at", "expected_fix_at", mode="before")(_iso_text)


class IncidentChange(Input):
    """The fields to change; the others stay. `expected_fix_at: null` clears the fix time."""

    kind: Code | None = Field(default=None, description=KIND)
    title: Texts | None = None
    explanation: Texts | None = None
    products: Products | None = None
    channels: Channels | None = None
    regions: Regions | None = None
    started_at: AwareDatetime | None = None
    expected_fix_at: AwareDatetime | None = None
    status: Literal["open", "monitoring"] | None = None
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="The version you read (refused if it moved on)."
    )

    _times = field_validator("started_at", "expected_fix_at", mode="before")(_iso_text)


class ResolveIn(Input):
    resolved_at: AwareDatetime | None = Field(
        default=None, description="When it ended (default: now; not before it started, not ahead)."
    )
    note: str = Field(default="", max_length=400, description="What fixed it, for the record.")
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)

    _times = field_validator("resolved_at", mode="before")(_iso_text)


def author(request: Request, user: Any) -> Author:
    return Author(user.id, user.display_name, ip=client_ip(request))


@router.get("")
async def list_incidents(
    register: IncidentsDep,
    _user: IncidentManagerDep,
    status: Literal["active", "open", "monitoring", "resolved", "all"] = Query(
        default="all", description="active: open or monitoring."
    ),
    limit: int = Query(default=200, ge=1, le=500),
) -> dict[str, Any]:
    """Open and monitoring incidents first (newest first), then resolved ones; each with `explained`,
    the conversations in which the bot told a customer about it."""
    found = await anyio.to_thread.run_sync(
        lambda: register.incidents(status=None if status == "all" else status, limit=limit)
    )
    return {"incidents": found}


@router.post("", status_code=201)
async def open_incident(
    request: Request, body: IncidentIn, register: IncidentsDep, user: IncidentManagerDep
) -> JSONResponse:
    """Record an incident; from its start on, the bot tells each affected customer first."""
    draft = IncidentDraft(
        kind=body.kind,
        title=body.title,
        explanation=body.explanation,
        products=body.products,
        channels=body.channels,
        regions=body.regions,
        started_at=body.started_at,
        expected_fix_at=body.expected_fix_at,
        status=body.status,
    )
    made = await anyio.to_thread.run_sync(
        lambda: register.create(author(request, user), draft, hotspot_id=body.hotspot_id, note=body.note)
    )
    return JSONResponse(made, status_code=201)


@router.get("/suggestions")
async def spike_suggestions(spikes: SpikesDep, _user: SpikeReaderDep) -> dict[str, Any]:
    """Hotspots spiking in the last day or week of the latest mining run that no incident covers and
    no one dismissed: each with its keywords, a message per language (`labels`), its size against
    its usual count per period, its channels and the link to its page."""
    return await anyio.to_thread.run_sync(spikes.suggestions)


@router.post("/suggestions/{hotspot_id}/dismiss")
async def dismiss_suggestion(
    request: Request, hotspot_id: HotspotId, spikes: SpikesDep, user: SpikeReaderDep
) -> dict[str, Any]:
    """ "Not an incident": stored and audited; the hotspot is not suggested again."""
    return await anyio.to_thread.run_sync(lambda: spikes.dismiss(author(request, user), hotspot_id))


@router.get("/{incident_id}")
async def get_incident(
    incident_id: IncidentId, register: IncidentsDep, _user: IncidentManagerDep
) -> dict[str, Any]:
    """One incident with every version of it (newest first: who, when, what, the whole state)."""
    return await anyio.to_thread.run_sync(register.get, incident_id)


@router.patch("/{incident_id}")
async def change_incident(
    request: Request,
    incident_id: IncidentId,
    body: IncidentChange,
    register: IncidentsDep,
    user: IncidentManagerDep,
) -> dict[str, Any]:
    """Change some fields; the whole incident is checked again and stored as a new version."""
    changes = body.model_dump(exclude_unset=True)
    version = changes.pop("version", None)
    return await anyio.to_thread.run_sync(
        lambda: register.update(author(request, user), incident_id, changes, version=version)
    )


@router.post("/{incident_id}/resolve")
async def resolve_incident(
    request: Request,
    incident_id: IncidentId,
    body: ResolveIn,
    register: IncidentsDep,
    user: IncidentManagerDep,
) -> dict[str, Any]:
    """Close the incident; it explains nothing after `resolved_at`, and is not changed again."""
    resolved_at: datetime | None = body.resolved_at
    return await anyio.to_thread.run_sync(
        lambda: register.resolve(
            author(request, user), incident_id, resolved_at=resolved_at, note=body.note, version=body.version
        )
    )
