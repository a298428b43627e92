"""GET /demo/outbox: the demo SMS/e-mail gateway as a page (only when `demo_pages` is on)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from helixdesk.core.errors import NotFoundError
from helixdesk.edge.deps import OutboxDep, SettingsDep
from helixdesk.edge.pages import templates

router = APIRouter(include_in_schema=False)


@router.get("/demo/outbox", response_class=HTMLResponse)
async def outbox_page(
    request: Request,
    settings: SettingsDep,
    outbox: OutboxDep,
    customer: Annotated[str, Query(max_length=32)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HTMLResponse:
    if not settings.demo_pages:
        raise NotFoundError("demo pages are turned off (demo_pages)")
    entries = await anyio.to_thread.run_sync(
        lambda: outbox.latest(customer_ref=customer.strip() or None, limit=limit)
    )
    return templates.TemplateResponse(
        request,
        "outbox.html",
        {"title": "Helixdesk", "entries": entries, "customer": customer.strip(), "limit": limit},
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
    )
