"""The historical dashboard's pages (`/console/analytics...`) for supervisors and managers.

- `analytics`: the filter bar (period: today, 7 days, 30 days or custom dates; channel, language,
  queue, intent, agent, customer tier), the metric cards with the previous period, the charts (each
  with its data table) and the agents' table, and the CSV export;
- `analytics/conversations`: the drill-down, the conversations behind one figure (a metric's
  outcome, on one day, or one bar of a breakdown), each linking to `/console/conversations/{id}`;
- `analytics/effect`: the service-effect evaluation of a change (`change`, as the API takes it) in
  the page's period and filters: the change chosen from what the period holds, then per outcome
  the two groups, the difference with its 95% interval and a verdict, drawn as a forest plot.

Who may read them is the API's `ANALYTICS_ROLES` (`AnalyticsReaderDep`; the console's nav shows
the link to the same roles). The pages are shells: `static/analytics.js` reads the JSON API (`/console/api/analytics/...`,
`edge/console/analytics_api.py`) with the page's query string and draws every chart through
`static/charts.js` (vendored ECharts). The routes only check the role and word the page.
`static/analytics_effect.js` is the evaluation's view, on the same helpers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from helixdesk.edge.console.pages import page
from helixdesk.edge.deps import AnalyticsReaderDep, BankZoneDep, StaffSessionDep
from helixdesk.edge.i18n import all_keys, translate, ui_language

router = APIRouter(prefix="/console", include_in_schema=False)

# The query the page passes on to the API: the period and the filters, and on the drill-down the
# figure's metric, outcome, day and breakdown key.
FILTERS = ("period", "from", "to", "channel", "language", "queue", "intent", "agent", "tier")
DRILL = ("metric", "outcome", "day", "key")
EFFECT = ("change",)
PERIODS = ("day", "week", "month", "custom")
# The codes analytics.js words with the pack's labels (filter options and breakdown bars).
LABEL_GROUPS = ("channel", "language", "queue", "intent", "reason", "emotion", "risk", "tier")


def _query(request: Request, names: tuple[str, ...], longest: int = 64) -> dict[str, str]:
    """The page's own query values (as the form shows them again; the API validates them)."""
    out: dict[str, str] = {}
    for name in names:
        value = request.query_params.get(name, "")
        if value and len(value) <= longest:
            out[name] = value
    return out


def _words(request: Request, lang: str) -> dict[str, Any]:
    labels = request.app.state.container.config.labels
    return {
        # Every an_* string (an_error_<code> words the API's refusals).
        "words": {key: translate(key, lang) for key in all_keys() if key.startswith("an_")},
        "labels": labels.table(LABEL_GROUPS, lang),
    }


@router.get("/analytics", response_class=HTMLResponse)
async def analytics_page(
    request: Request, user: AnalyticsReaderDep, session: StaffSessionDep
) -> HTMLResponse:
    lang = ui_language(request, user.ui_language)
    return page(
        request,
        "console_analytics.html",
        user=user,
        csrf=session.csrf_token,
        view="dashboard",
        query=_query(request, FILTERS),
        periods=PERIODS,
        analytics_words=_words(request, lang),
    )


@router.get("/analytics/conversations", response_class=HTMLResponse)
async def drill_page(
    request: Request, user: AnalyticsReaderDep, session: StaffSessionDep, zone: BankZoneDep
) -> HTMLResponse:
    lang = ui_language(request, user.ui_language)
    return page(
        request,
        "console_analytics.html",
        user=user,
        csrf=session.csrf_token,
        view="conversations",
        query=_query(request, FILTERS),
        drill=_query(request, DRILL),
        zone=getattr(zone, "key", None) or "",  # the times of the list, in the bank's zone
        periods=PERIODS,
        analytics_words=_words(request, lang),
    )


@router.get("/analytics/effect", response_class=HTMLResponse)
async def effect_page(request: Request, user: AnalyticsReaderDep, session: StaffSessionDep) -> HTMLResponse:
    lang = ui_language(request, user.ui_language)
    return page(
        request,
        "console_analytics.html",
        user=user,
        csrf=session.csrf_token,
        view="effect",
        query=_query(request, FILTERS),
        effect=_query(request, EFFECT, longest=140),  # the API's limit of a change
        periods=PERIODS,
        analytics_words=_words(request, lang),
    )
