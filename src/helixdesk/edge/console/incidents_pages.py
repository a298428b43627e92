"""The incident register's page (`/console/incidents`) for operators, supervisors and admins: the
incidents with whom they affect, their times (in the bank's time) and how many conversations each
one explained; a form to open one, edit it and resolve it; each unresolved incident's campaign
(start one by SMS or e-mail, follow its counts, cancel it). Above the list, for operators and
supervisors, the hotspot spikes suggested as incidents (`helixdesk.insight.spikes`): "Open an incident"
fills the form from one and links the new incident to its hotspot. `static/incidents.js` calls the
JSON APIs (`edge/console/incidents_api.py`, `edge/console/campaigns_api.py`)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from helixdesk.core.languages import LANGUAGES
from helixdesk.edge.console.pages import page
from helixdesk.edge.deps import (
    SPIKE_ROLES,
    BankZoneDep,
    CampaignsDep,
    IncidentManagerDep,
    IncidentsDep,
    SpikesDep,
    StaffSessionDep,
)
from helixdesk.edge.i18n import translate, ui_language
from helixdesk.incidents.rules import CHANNELS, KINDS, PRODUCTS, text_in
from helixdesk.nlg.format import zone_name

router = APIRouter(prefix="/console/incidents", include_in_schema=False)
# What incidents.js words itself, in the page's language.
SCRIPT_WORDS = (
    "inc_new",
    "inc_editing",
    "inc_saved",
    "inc_resolved_now",
    "inc_confirm_resolve",
    "inc_resolve",
    "inc_spike_dismissed",
    "camp_started",
    "camp_stopped_now",
    "camp_status_running",
    "camp_status_done",
    "camp_status_cancelled",
    "camp_status_stopped",
)
CAMPAIGN_COUNTS = (
    "targeted",
    "sent",
    "skipped_opt_out",
    "skipped_no_contact",
    "waiting_quiet_hours",
    "failed",
    "pending",
)
SCRIPT_ERRORS = (
    "invalid_incident",
    "incident_not_found",
    "incident_resolved",
    "incident_changed",
    "invalid_request",
    "hotspot_not_found",
    "invalid_campaign",
    "campaign_running",
    "campaign_not_found",
    "campaign_not_running",
    "incident_not_active",
)
TITLE_LONGEST = 120


def _local(value: str | None, tz: tzinfo) -> str:
    return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def _row(incident: dict[str, Any], lang: str, tz: tzinfo) -> dict[str, Any]:
    return {
        **incident,
        "display_title": text_in(incident["title"], lang),
        "started_local": _local(incident["started_at"], tz),
        "fix_local": _local(incident["expected_fix_at"], tz),
        "resolved_local": _local(incident["resolved_at"], tz),
    }


def _usual(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _suggestion(found: dict[str, Any], lang: str) -> dict[str, Any]:
    """A spike as the page shows it: its label in the page's language (else its keywords), its
    sizes against usual, and what "Open an incident" puts in the form."""
    label = text_in(found["labels"], lang) or " · ".join(found["keywords"][:4]) or found["hotspot_id"]
    sizes = [
        translate("inc_spike_size", lang).format(
            period=translate(f"inc_spike_{x['period']}", lang), size=x["size"], usual=_usual(x["usual"])
        )
        for x in found["spikes"]
    ]
    separator = "；" if lang != "en" else "; "
    note = translate("inc_spike_note", lang).format(
        id=found["hotspot_id"], counts=separator.join(sizes), link=found["link"]
    )
    return {
        **found,
        "label": label,
        "sizes": sizes,
        "form": {
            "hotspot_id": found["hotspot_id"],
            "title": {lang: label[:TITLE_LONGEST]},
            "channels": [c for c in found["channels"] if c in CHANNELS],
            "note": note,
            "link": found["link"],
            "label": label,
        },
    }


@router.get("", response_class=HTMLResponse)
async def incidents_page(
    request: Request,
    register: IncidentsDep,
    campaigns: CampaignsDep,
    user: IncidentManagerDep,
    session: StaffSessionDep,
    tz: BankZoneDep,
    spikes: SpikesDep,
    status: Literal["active", "open", "monitoring", "resolved", "all"] = Query(default="all"),
) -> HTMLResponse:
    lang = ui_language(request, user.ui_language)
    found = await anyio.to_thread.run_sync(
        lambda: register.incidents(status=None if status == "all" else status)
    )
    suggested: list[dict[str, Any]] = []
    if set(SPIKE_ROLES) & set(user.roles):
        read = await anyio.to_thread.run_sync(spikes.suggestions)
        suggested = [_suggestion(x, lang) for x in read["suggestions"]]
    unresolved = [i for i in found if i["status"] != "resolved"]
    latest = await anyio.to_thread.run_sync(lambda: campaigns.latest([i["id"] for i in unresolved]))
    return page(
        request,
        "console_incidents.html",
        user=user,
        csrf=session.csrf_token,
        incidents=[_row(i, lang, tz) for i in found],
        suggestions=suggested,
        unresolved=[{**_row(i, lang, tz), "campaign": latest.get(i["id"])} for i in unresolved],
        campaign_counts=CAMPAIGN_COUNTS,
        page_language=lang,
        shown=status,
        kinds=KINDS,
        products=PRODUCTS,
        channels=CHANNELS,
        text_languages=LANGUAGES,
        zone=zone_name(tz, lang),
        inc_words={
            "words": {key: translate(key, lang) for key in SCRIPT_WORDS},
            "errors": {code: translate(f"error_{code}", lang) for code in SCRIPT_ERRORS},
        },
    )
