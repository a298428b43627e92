"""The incident campaigns' JSON API and the customers' notification opt-outs.

- `/console/api/incidents/{id}/campaign` (operators, supervisors, admins): start a campaign that
  notifies the incident's affected customers, read its progress, cancel it. The outreach process
  sends the notices (`helixdesk.outreach.campaign_sender`).
- `/console/api/customers/{ref}/opt-outs` (staff who serve customers: agents and supervisors): the
  purposes the customer wants no notifications for, set and cleared on their request, audited.

Every unsafe call carries the session's CSRF token (`X-CSRF-Token`), as every console call does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field, StringConstraints

from helixdesk.audit import Actor
from helixdesk.core.inputs import Input
from helixdesk.edge.console.incidents_api import IncidentId, author
from helixdesk.edge.deps import CampaignsDep, IncidentManagerDep, OptOutsDep, OptOutStaffDep, client_ip
from helixdesk.edge.http import ERROR_RESPONSES

router = APIRouter(tags=["incidents"], responses=ERROR_RESPONSES)

CustomerRef = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
# The purposes a customer may opt out of (`notifications.optouts.PURPOSES`), so the schema lists them.
Purpose = Annotated[Literal["service_notice"], Path()]
Code = Annotated[str, StringConstraints(max_length=40)]
Text = Annotated[str, StringConstraints(max_length=2000)]


class CampaignIn(Input):
    channel: Literal["sms", "email"] = Field(description="How the notices go: sms (the phone) or email.")
    message: dict[Code, Text] | None = Field(
        default=None,
        max_length=3,
        description="Your own text per language (zh-Hans, zh-Hant, en; up to 500 characters); "
        "none: each customer reads the incident's explanation in their preferred language.",
    )


class OptOutIn(Input):
    note: str = Field(default="", max_length=200, description="What the customer said, for the record.")


@router.post("/console/api/incidents/{incident_id}/campaign", status_code=201)
async def start_campaign(
    request: Request,
    incident_id: IncidentId,
    body: CampaignIn,
    campaigns: CampaignsDep,
    user: IncidentManagerDep,
) -> JSONResponse:
    """Notify the incident's affected customers (one campaign of an incident at a time)."""
    made = await anyio.to_thread.run_sync(
        lambda: campaigns.start(
            author(request, user), incident_id, channel=body.channel, message=body.message
        )
    )
    return JSONResponse(made, status_code=201)


@router.get("/console/api/incidents/{incident_id}/campaign")
async def get_campaign(
    incident_id: IncidentId, campaigns: CampaignsDep, _user: IncidentManagerDep
) -> dict[str, Any]:
    """The incident's latest campaign: its status and counts."""
    return await anyio.to_thread.run_sync(campaigns.current, incident_id)


@router.post("/console/api/incidents/{incident_id}/campaign/cancel")
async def cancel_campaign(
    request: Request, incident_id: IncidentId, campaigns: CampaignsDep, user: IncidentManagerDep
) -> dict[str, Any]:
    """Stop the running campaign: the notices not sent yet are not sent."""
    return await anyio.to_thread.run_sync(lambda: campaigns.cancel(author(request, user), incident_id))


def _staff(request: Request, user: Any) -> Actor:
    return Actor.staff(user.id, ip=client_ip(request), channel="console")


@router.get("/console/api/customers/{customer_ref}/opt-outs")
async def get_opt_outs(
    customer_ref: CustomerRef, opt_outs: OptOutsDep, _user: OptOutStaffDep
) -> dict[str, Any]:
    """Each purpose with whether the customer opted out of it."""
    return await anyio.to_thread.run_sync(opt_outs.of, customer_ref)


@router.put("/console/api/customers/{customer_ref}/opt-outs/{purpose}")
async def opt_out(
    request: Request,
    customer_ref: CustomerRef,
    purpose: Purpose,
    body: OptOutIn,
    opt_outs: OptOutsDep,
    user: OptOutStaffDep,
) -> dict[str, Any]:
    """The customer asked for no notifications of this purpose (`service_notice`)."""
    return await anyio.to_thread.run_sync(
        lambda: opt_outs.opt_out(_staff(request, user), customer_ref, purpose, note=body.note)
    )


@router.delete("/console/api/customers/{customer_ref}/opt-outs/{purpose}")
async def opt_in(
    request: Request, customer_ref: CustomerRef, purpose: Purpose, opt_outs: OptOutsDep, user: OptOutStaffDep
) -> dict[str, Any]:
    """The customer wants notifications of this purpose again."""
    return await anyio.to_thread.run_sync(
        lambda: opt_outs.opt_in(_staff(request, user), customer_ref, purpose)
    )
