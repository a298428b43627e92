"""Page routes: the customer chat page."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from helixdesk.core.languages import DEFAULT_LANGUAGE, LANGUAGES
from helixdesk.edge.i18n import browser_language

WEB_DIR = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=WEB_DIR / "templates")

router = APIRouter(include_in_schema=False)
_CUSTOMER_REF = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request) -> HTMLResponse:
    """The chat opens in `?lang=`, else the customer's preferred language when the page knows who
    they are (`?customer=` on a demo server), else the browser's; the customer may switch."""
    preferred = await _customer_language(request)
    asked = request.query_params.get("lang")
    lang = (
        asked
        if asked in LANGUAGES
        else preferred or browser_language(request.headers.get("accept-language")) or DEFAULT_LANGUAGE
    )
    # The channels' names in the three languages, as the agent console words them (the customer's
    # earlier conversations are labelled with them).
    channels = {
        code: dict(words)
        for code, words in request.app.state.container.config.labels.group("channel").items()
    }
    return templates.TemplateResponse(
        request,
        "chat.html",
        {"title": "Helixdesk", "lang": lang, "customer_lang": preferred or "", "channels": channels},
    )


async def _customer_language(request: Request) -> str | None:
    """The demo customer's preferred language. Only a demo server lets the page say who the
    customer is (as it lets the page start their conversation); elsewhere the channel's back end
    knows them and passes `?lang=`."""
    ref = request.query_params.get("customer") or ""
    container = request.app.state.container
    if not container.settings.demo_pages or not _CUSTOMER_REF.match(ref):
        return None
    customer = await anyio.to_thread.run_sync(container.bank.get_customer, ref)
    language = customer.preferred_language if customer is not None else None
    return language if language in LANGUAGES else None
