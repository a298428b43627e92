"""The analytics dashboards' JSON API (`/console/api/analytics/...`, supervisors and managers).

Every route takes a period (`period` day, week or month: the last 1, 7 or 30 days up to today in
the bank's time zone; or `from` and `to`, YYYY-MM-DD inclusive) and filters (`channel`,
`language`, `queue`, `intent`, `agent`, `tier`):
- `summary`: every metric with its previous period, the per-day series, the breakdowns and the
  filters' options; `summary.csv` the same as a download;
- `effect?change=...`: a change's effect (a knowledge entry, a queue or handoff reason, a change
  from a day on) on the customers it touched against a comparable group, with 95% intervals and a
  verdict per outcome; `effect/choices` what can be evaluated in the period (the knowledge entries
  cited, the queues and handoff reasons, each with the conversations it touched);
- `conversations`: the drill-down, the conversations behind a figure (`metric`, `outcome` yes, no
  or all, `day`, or a breakdown's `key`), a page at a time; `conversations.csv` as a download;
- `report.pdf`: the summary as a PDF report, in the staff member's language (or `lang`);
- `reports`: the scheduled daily and weekly reports written, and `reports/{name}` to download one.
Routes are thin: `helixdesk.analytics` does the work.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response

from helixdesk.analytics.export import conversations_csv, summary_csv
from helixdesk.analytics.query import Days, Filters
from helixdesk.core.languages import language_or_default
from helixdesk.edge.deps import ANALYTICS_ROLES, AnalyticsDep, AnalyticsReaderDep
from helixdesk.edge.http import ERROR_RESPONSES

__all__ = ["ANALYTICS_ROLES", "router"]

router = APIRouter(prefix="/console/api/analytics", tags=["analytics"], responses=ERROR_RESPONSES)
DAY = r"^(\d{4}-\d{2}-\d{2})?$"
NAME = r"^[A-Za-z0-9_.:-]{0,48}$"
CSV_LIMIT = 10_000


class _Query:
    """The period and filters of a request, from the query string (empty values mean all)."""

    def __init__(
        self,
        period: Annotated[
            str | None, Query(pattern=r"^(day|week|month|custom)?$", description="day, week, month or custom")
        ] = None,
        first: Annotated[
            str | None, Query(alias="from", pattern=DAY, description="first day, YYYY-MM-DD")
        ] = None,
        last: Annotated[
            str | None, Query(alias="to", pattern=DAY, description="last day, YYYY-MM-DD, inclusive")
        ] = None,
        channel: Annotated[str | None, Query(pattern=NAME)] = None,
        language: Annotated[str | None, Query(pattern=NAME)] = None,
        queue: Annotated[str | None, Query(pattern=NAME)] = None,
        intent: Annotated[str | None, Query(pattern=NAME)] = None,
        agent: Annotated[str | None, Query(pattern=NAME)] = None,
        tier: Annotated[str | None, Query(pattern=NAME)] = None,
    ) -> None:
        self.period = period or None
        self.first = first or None
        self.last = last or None
        self.filters = {
            "channel": channel,
            "language": language,
            "queue": queue,
            "intent": intent,
            "agent": agent,
            "tier": tier,
        }

    def parse(self, analytics: AnalyticsDep) -> tuple[Days, Filters]:
        return analytics.query(self.period, self.first, self.last, **self.filters)


QueryDep = Annotated[_Query, Depends()]


def _download(text: str, name: str) -> Response:
    return Response(
        "\ufeff" + text,  # a byte-order mark, so spreadsheets read the Chinese as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/summary")
async def summary(q: QueryDep, analytics: AnalyticsDep, _user: AnalyticsReaderDep) -> dict[str, Any]:
    days, filters = q.parse(analytics)
    return await anyio.to_thread.run_sync(analytics.summary, days, filters)


@router.get("/summary.csv", response_class=Response)
async def summary_download(q: QueryDep, analytics: AnalyticsDep, _user: AnalyticsReaderDep) -> Response:
    days, filters = q.parse(analytics)
    data = await anyio.to_thread.run_sync(analytics.summary, days, filters)
    return _download(summary_csv(data), f"helixdesk-analytics-{days.first}-{days.last}.csv")


@router.get("/effect")
async def effect(
    q: QueryDep,
    analytics: AnalyticsDep,
    _user: AnalyticsReaderDep,
    change: Annotated[
        str,
        Query(
            min_length=3,
            max_length=140,
            description="knowledge:<entry id>, queue:<queue>, reason:<reason> or after:<YYYY-MM-DD>",
        ),
    ],
) -> dict[str, Any]:
    """A change's effect on the customers it touched against a comparable group (same intent and
    language, same period): CSAT, repeat contact, first-contact resolution and retention, with 95% intervals."""
    days, filters = q.parse(analytics)
    return await anyio.to_thread.run_sync(analytics.effect, change, days, filters)


@router.get("/effect/choices")
async def effect_choices(
    q: QueryDep,
    analytics: AnalyticsDep,
    user: AnalyticsReaderDep,
    lang: Annotated[
        Literal["zh-Hans", "zh-Hant", "en"] | None, Query(description="the language of the entries' titles")
    ] = None,
) -> dict[str, Any]:
    """What can be evaluated in the period: the knowledge entries the bot's answers cited, the
    queues and the handoff reasons, each with the conversations it touched (the most first); and
    the filters' options."""
    days, filters = q.parse(analytics)
    language = lang or language_or_default(user.ui_language)
    return await anyio.to_thread.run_sync(lambda: analytics.effect_choices(days, filters, language=language))


@router.get("/conversations")
async def conversations(
    q: QueryDep,
    analytics: AnalyticsDep,
    _user: AnalyticsReaderDep,
    metric: Annotated[
        str, Query(pattern=r"^[a-z_]{1,32}$", description="a metric key or a breakdown's name")
    ] = "volume",
    outcome: Annotated[str, Query(pattern=r"^(yes|no|all)$")] = "yes",
    day: Annotated[str | None, Query(pattern=DAY)] = None,
    key: Annotated[str | None, Query(pattern=NAME, description="the breakdown's bar")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    days, filters = q.parse(analytics)
    return await anyio.to_thread.run_sync(
        lambda: analytics.conversations(
            days,
            filters,
            metric=metric,
            outcome=outcome,
            day=day or None,
            key=key or None,
            offset=offset,
            limit=limit,
        )
    )


@router.get("/conversations.csv", response_class=Response)
async def conversations_download(
    q: QueryDep,
    analytics: AnalyticsDep,
    _user: AnalyticsReaderDep,
    metric: Annotated[str, Query(pattern=r"^[a-z_]{1,32}$")] = "volume",
    outcome: Annotated[str, Query(pattern=r"^(yes|no|all)$")] = "yes",
    day: Annotated[str | None, Query(pattern=DAY)] = None,
    key: Annotated[str | None, Query(pattern=NAME)] = None,
) -> Response:
    days, filters = q.parse(analytics)
    data = await anyio.to_thread.run_sync(
        lambda: analytics.conversations(
            days, filters, metric=metric, outcome=outcome, day=day or None, key=key or None, limit=CSV_LIMIT
        )
    )
    return _download(
        conversations_csv(data["conversations"]), f"helixdesk-{metric}-{days.first}-{days.last}.csv"
    )


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/report.pdf", response_class=Response)
async def report_download(
    q: QueryDep,
    analytics: AnalyticsDep,
    user: AnalyticsReaderDep,
    lang: Annotated[
        Literal["zh-Hans", "zh-Hant", "en"] | None, Query(description="the report's language")
    ] = None,
) -> Response:
    """The summary of the period as a PDF report, in the staff member's language unless `lang`."""
    days, filters = q.parse(analytics)
    kind = q.period if q.period in ("day", "week") and not (q.first or q.last) else "custom"
    data = await anyio.to_thread.run_sync(
        lambda: analytics.pdf(
            days, filters, language=lang or language_or_default(user.ui_language), kind=kind
        )
    )
    return _pdf(data, f"helixdesk-report-{days.first}-{days.last}.pdf")


@router.get("/reports")
async def scheduled_reports(analytics: AnalyticsDep, _user: AnalyticsReaderDep) -> dict[str, Any]:
    """The scheduled daily and weekly reports written, newest first."""
    return {"reports": await anyio.to_thread.run_sync(analytics.reports)}


@router.get("/reports/{name}", response_class=FileResponse)
async def scheduled_report(name: str, analytics: AnalyticsDep, _user: AnalyticsReaderDep) -> FileResponse:
    """One scheduled report by its name (as listed)."""
    path = analytics.report_file(name)
    return FileResponse(path, media_type="application/pdf", filename=path.name)
