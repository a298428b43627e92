"""Hotspots in the console: what customers ask and complain about, by topic, per period.

Pages (`/console/...`, supervisors, QA reviewers and admins):
- `insight`: the hotspot report of a period (the last day, week or month, or custom dates in the
  bank's time zone), with filters by channel, language, product, queue and source, spikes first,
  and its CSV and JSON exports;
- `insight/topics/{topic_id}`: one hotspot: its figures, its rows per day and more examples. The
  link is stable: a hotspot keeps its id from one mining run to the next. Operators may open it too
  (the incident register links a spike it suggests to it);
- `insight/proposals`: answers proposed from what agents replied to questions the bot could not
  answer, with their sources; supervisors approve (with edits) or reject them;
- `insight/effects`: for every approved proposal, how the bot did on its questions before and
  after approval.

JSON API (`/console/api/insight/...`): `hotspots` (JSON), `hotspots.csv` and `hotspots.json`
(downloads), `topics/{topic_id}`, `proposals` (+ `refresh`, `{id}/approve`, `{id}/reject`),
`effects`, and `feedback` (JSON; GET lists the latest items) and `feedback.csv` (a file) to add
callback notes and social-media comments. Routes are thin: `helixdesk.insight` does the work.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from helixdesk.auth.errors import ForbiddenError
from helixdesk.auth.roles import is_supervisor
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.core.inputs import Input
from helixdesk.edge.console.pages import page
from helixdesk.edge.deps import (
    INSIGHT_ROLES,
    AgentDep,
    BankZoneDep,
    FeedbackDep,
    FeedbackImporterDep,
    HotspotReaderDep,
    InsightDep,
    InsightReaderDep,
    ProposalsDep,
    StaffSessionDep,
    SupervisorDep,
)
from helixdesk.edge.http import ERROR_RESPONSES
from helixdesk.insight.feedback import FeedbackItem, parse_csv
from helixdesk.insight.hotspots import SOURCES, Filters, Period, Report, report_csv
from helixdesk.insight.query import PERIODS, parse_filters, parse_period
from helixdesk.insight.service import Insight

router = APIRouter(prefix="/console", tags=["insight"], responses=ERROR_RESPONSES)
API = "/api/insight"
CHANNELS = ("web", "app", "wechat", "api", "voice", "social")
# A filter's value (empty: all, as the page's form sends it), and a period's end.
NAME = r"^[a-z0-9_-]{0,32}$"
WHEN = r"^(\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2}))?)?$"


class HotspotQuery:
    """The period and filters of a hotspot request, from the query string."""

    def __init__(
        self,
        period: Annotated[
            Literal["", "day", "week", "month"] | None, Query(description="day, week or month up to now")
        ] = None,
        since: Annotated[
            str | None,
            Query(
                max_length=40, pattern=WHEN, description="start: an ISO date, or a date-time with its offset"
            ),
        ] = None,
        until: Annotated[
            str | None,
            Query(
                max_length=40, pattern=WHEN, description="end (exclusive); a date means the end of that day"
            ),
        ] = None,
        channel: Annotated[str | None, Query(pattern=NAME)] = None,
        language: Annotated[Literal["", "zh-Hans", "zh-Hant", "en"] | None, Query()] = None,
        product: Annotated[str | None, Query(pattern=NAME)] = None,
        queue: Annotated[str | None, Query(pattern=NAME)] = None,
        source: Annotated[Literal["", "chat", "csat", "callback", "social"] | None, Query()] = None,
    ) -> None:
        self.kind = period or None
        self.since_raw, self.until_raw = since or None, until or None
        self.filters_raw = {
            "channel": channel or None,
            "language": language or None,
            "product": product or None,
            "queue": queue or None,
            "source": source or None,
        }

    def resolve(self, zone: tzinfo) -> tuple[Period, Filters]:
        since = _when(self.since_raw, zone, end=False)
        until = _when(self.until_raw, zone, end=True)
        return parse_period(self.kind, since, until, utcnow()), parse_filters(**self.filters_raw)

    def query_string(self) -> str:
        from urllib.parse import urlencode

        values = {"period": self.kind, "since": self.since_raw, "until": self.until_raw, **self.filters_raw}
        return urlencode({k: v for k, v in values.items() if v})


QueryDep = Annotated[HotspotQuery, Depends()]


def _when(value: str | None, zone: tzinfo, *, end: bool) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1 if end else 0), time(0), zone)
        return datetime.fromisoformat(value)
    except ValueError as e:
        raise ValidationFailedError(
            "since and until are ISO dates (2026-11-01) or date-times with an offset", code="invalid_period"
        ) from e


async def _report(insight: Insight, query: HotspotQuery, zone: tzinfo) -> tuple[Period, Report]:
    period, filters = query.resolve(zone)
    return period, await anyio.to_thread.run_sync(insight.report, period, filters)


@router.get(f"{API}/hotspots")
async def hotspots_json(
    _user: InsightReaderDep, insight: InsightDep, query: QueryDep, zone: BankZoneDep
) -> dict[str, Any]:
    """The hotspot report of a period, largest first, with each hotspot's trend and spike."""
    _, report = await _report(insight, query, zone)
    return report.to_dict()


@router.get(f"{API}/hotspots.csv", response_class=Response)
async def hotspots_csv(
    _user: InsightReaderDep, insight: InsightDep, query: QueryDep, zone: BankZoneDep
) -> Response:
    """The hotspot report as a CSV download (UTF-8 with a byte-order mark, for spreadsheets)."""
    period, report = await _report(insight, query, zone)
    name = f"hotspots-{period.since:%Y%m%d}-{period.until:%Y%m%d}.csv"
    return Response(
        "\ufeff" + report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(f"{API}/hotspots.json", response_class=Response)
async def hotspots_download(
    _user: InsightReaderDep, insight: InsightDep, query: QueryDep, zone: BankZoneDep
) -> Response:
    """The hotspot report as a JSON download."""
    period, report = await _report(insight, query, zone)
    name = f"hotspots-{period.since:%Y%m%d}-{period.until:%Y%m%d}.json"
    return Response(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _known(value: str, longest: int, what: str) -> str:
    """An id from the path: too long to be one is no such thing (404), never cut short."""
    if len(value) > longest:
        raise NotFoundError(f"no {what} {value[:40]}", code=f"{what}_not_found")
    return value


@router.get(f"{API}/topics/{{topic_id}}")
async def topic_json(
    topic_id: str, _user: HotspotReaderDep, insight: InsightDep, query: QueryDep, zone: BankZoneDep
) -> dict[str, Any]:
    """One hotspot in the period: its figures, its rows per day and examples."""
    period, filters = query.resolve(zone)
    return await anyio.to_thread.run_sync(
        insight.topic, _known(topic_id, 16, "hotspot"), period, filters, zone
    )


@router.get("/insight", response_class=HTMLResponse, include_in_schema=False)
async def insight_page(
    request: Request,
    _user: InsightReaderDep,
    session: StaffSessionDep,
    insight: InsightDep,
    query: QueryDep,
    zone: BankZoneDep,
) -> HTMLResponse:
    error = None
    try:
        period, filters = query.resolve(zone)
    except ValidationFailedError as e:
        # The page says what was wrong and shows the last week unfiltered.
        error = e.code
        query = HotspotQuery()
        period, filters = query.resolve(zone)

    def load() -> dict[str, Any]:
        return {"report": insight.report(period, filters), "run": insight.last_run()}

    data = await anyio.to_thread.run_sync(load)
    return page(
        request,
        "console_insight.html",
        user=session.user,
        csrf=session.csrf_token,
        query=query,
        qs=query.query_string(),
        periods=PERIODS,
        channels=CHANNELS,
        sources=SOURCES,
        zone=zone,
        error=error,
        status=422 if error else 200,
        **data,
    )


@router.get("/insight/topics/{topic_id}", response_class=HTMLResponse, include_in_schema=False)
async def topic_page(
    topic_id: str,
    request: Request,
    user: HotspotReaderDep,
    session: StaffSessionDep,
    insight: InsightDep,
    query: QueryDep,
    zone: BankZoneDep,
) -> HTMLResponse:
    period, filters = query.resolve(zone)
    topic = await anyio.to_thread.run_sync(
        insight.topic, _known(topic_id, 16, "hotspot"), period, filters, zone
    )
    peak = max((n for _, n in topic["days"]), default=0)
    return page(
        request,
        "console_insight_topic.html",
        user=session.user,
        csrf=session.csrf_token,
        topic=topic,
        peak=peak,
        period=period,
        zone=zone,
        qs=query.query_string(),
        # An operator comes from a spike the incident register suggests, and goes back there.
        back_to_incidents=not set(INSIGHT_ROLES) & set(user.roles),
    )


# ---- proposed answers and their effect ----------------------------------------------------------


class ProposalDecisionIn(Input):
    """A supervisor's decision on a proposed answer; edits replace the drafted text per language."""

    questions: dict[str, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict, max_length=3)
    answers: dict[str, Annotated[str, Field(max_length=4000)]] = Field(default_factory=dict, max_length=3)
    note: str = Field(default="", max_length=500)


@router.get(f"{API}/proposals")
async def proposals_json(
    _user: InsightReaderDep, proposals: ProposalsDep, status: Annotated[str, Query(max_length=12)] = "open"
) -> list[dict[str, Any]]:
    """Proposed answers (open, approved or rejected), each with its sources and examples."""
    return await anyio.to_thread.run_sync(lambda: proposals.listed(status=status or None))


@router.post(f"{API}/proposals/refresh")
async def proposals_refresh(_user: SupervisorDep, proposals: ProposalsDep) -> dict[str, Any]:
    """Look for new clusters of unanswered questions now (the insight worker does it every 10 minutes)."""
    made = await anyio.to_thread.run_sync(proposals.generate)
    return {"created": made}


@router.post(f"{API}/proposals/{{proposal_id}}/approve")
async def proposal_approve(
    proposal_id: str, body: ProposalDecisionIn, user: SupervisorDep, proposals: ProposalsDep
) -> dict[str, Any]:
    """Approve a proposal (with edits): one knowledge entry per language, searchable at once."""
    return await anyio.to_thread.run_sync(
        lambda: proposals.approve(
            user, _known(proposal_id, 36, "proposal"), questions=body.questions, answers=body.answers
        )
    )


@router.post(f"{API}/proposals/{{proposal_id}}/reject")
async def proposal_reject(
    proposal_id: str, body: ProposalDecisionIn, user: SupervisorDep, proposals: ProposalsDep
) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(
        lambda: proposals.reject(user, _known(proposal_id, 36, "proposal"), note=body.note)
    )


@router.get(f"{API}/effects")
async def effects_json(_user: InsightReaderDep, proposals: ProposalsDep) -> list[dict[str, Any]]:
    """For every approved proposal: its cluster before and after approval, and a verdict."""
    return await anyio.to_thread.run_sync(proposals.effects)


@router.get("/insight/proposals", response_class=HTMLResponse, include_in_schema=False)
async def proposals_page(
    request: Request, _user: InsightReaderDep, session: StaffSessionDep, proposals: ProposalsDep
) -> HTMLResponse:
    items = await anyio.to_thread.run_sync(lambda: proposals.listed(status="open"))
    return page(
        request,
        "console_insight_proposals.html",
        user=session.user,
        csrf=session.csrf_token,
        proposals=items,
        can_decide=is_supervisor(session.user.roles),
    )


@router.get("/insight/effects", response_class=HTMLResponse, include_in_schema=False)
async def effects_page(
    request: Request,
    _user: InsightReaderDep,
    session: StaffSessionDep,
    proposals: ProposalsDep,
    zone: BankZoneDep,
) -> HTMLResponse:
    effects = await anyio.to_thread.run_sync(proposals.effects)
    return page(
        request,
        "console_insight_effects.html",
        user=session.user,
        csrf=session.csrf_token,
        effects=effects,
        zone=zone,
    )


# ---- feedback from every source -----------------------------------------------------------------

FEEDBACK_CSV_PATH = f"/console{API}/feedback.csv"


class FeedbackItemIn(Input):
    source: Literal["callback", "social"]
    channel: str = Field(min_length=1, max_length=16, description="weibo, wechat, douyin, phone, ...")
    text: str = Field(min_length=1, max_length=2000)
    at: datetime | None = Field(
        default=None, description="When it was written (ISO, with offset); default now."
    )
    language: Literal["zh-Hans", "zh-Hant", "en"] | None = None
    external_id: str | None = Field(
        default=None, max_length=128, description="Its id at the source: imported once."
    )


class FeedbackIn(Input):
    items: list[FeedbackItemIn] = Field(min_length=1, max_length=500)


@router.get(f"{API}/feedback")
async def feedback_list(
    _user: InsightReaderDep,
    insight: InsightDep,
    source: Annotated[Literal["", "callback", "social"] | None, Query()] = None,
    channel: Annotated[str | None, Query(pattern=NAME)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The latest feedback items, newest first (masked text, language, intent, product, whether
    negative, hotspot once placed), optionally of one source and channel."""
    items = await anyio.to_thread.run_sync(
        lambda: insight.feedback(source=source or None, channel=channel or None, limit=limit)
    )
    return {"items": items}


@router.post(f"{API}/feedback")
async def feedback_json(body: FeedbackIn, user: AgentDep, feedback: FeedbackDep) -> dict[str, Any]:
    """Add feedback: agents their callback notes; supervisors also social-media comments. Each item
    goes through the NLU and into the hotspots. (A JSON body is at most 64 KiB: send more as CSV.)"""
    if not is_supervisor(user.roles) and any(i.source != "callback" for i in body.items):
        raise ForbiddenError("only supervisors import social-media feedback")
    items = [FeedbackItem(**i.model_dump()) for i in body.items]
    return await feedback.add(items)


@router.post(
    "/api/insight/feedback.csv",
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
async def feedback_csv(request: Request, _user: FeedbackImporterDep, feedback: FeedbackDep) -> dict[str, Any]:
    """Import a CSV file of feedback (the raw file as the body; columns source, channel, text and
    optionally at, language, external_id). All or nothing."""
    items = parse_csv(await request.body())
    return await feedback.add(items)
