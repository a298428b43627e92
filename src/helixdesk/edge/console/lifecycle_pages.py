"""The lifecycle strategies' page (`/console/lifecycle`) for supervisors and admins: the bank's
strategies in order (kind, when, where, version, holdout share, enabled), each with its touches of
the period counted by arm and status, and one strategy's effect against its holdout group
(`?strategy=`): per outcome the two arms, the difference with its 95% interval and a verdict, drawn
as a forest plot with its description and data table. The strategies and counts are worded here;
`static/lifecycle.js` reads the effect from the JSON API (`edge/console/lifecycle_api.py`) and
draws it through `static/charts.js`. Editing stays in the API.
"""

from __future__ import annotations

import re
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from helixdesk.core.errors import ValidationFailedError
from helixdesk.edge.console.pages import page
from helixdesk.edge.deps import AnalyticsDep, StaffSessionDep, StrategiesDep, StrategyEditorDep
from helixdesk.edge.i18n import all_keys, translate, ui_language

router = APIRouter(prefix="/console", include_in_schema=False)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# The keys lifecycle.js words the effect with (beside every lc_* key).
SCRIPT_KEYS = ("an_points", "an_data_table", "an_no_data", "an_metric_csat", "an_effect_outcome_retention")


def _when(definition: dict[str, Any], lang: str, label: Any) -> list[str]:
    """A strategy's conditions in words, one phrase each (none: it applies to everyone)."""
    when = definition.get("when") or {}
    out = [translate(f"stage_{s}", lang) for s in when.get("stages") or ()]
    out += [label("churn_band", b) for b in when.get("churn_bands") or ()]
    if when.get("at_risk") is True:
        out.append(translate("lc_when_at_risk", lang))
    elif when.get("at_risk") is False:
        out.append(translate("pf_reason_not_at_risk", lang))
    interests = [label("interest", i) for i in when.get("interests") or ()]
    if interests:
        joined = (", " if lang == "en" else "、").join(interests)
        out.append(translate("lc_when_interests", lang).replace("{interests}", joined))
    out += [translate(f"pf_reason_{t}", lang) for t in when.get("triggers") or ()]
    return out or [translate("pf_reason_everyone", lang)]


@router.get("/lifecycle", response_class=HTMLResponse)
async def lifecycle_page(
    request: Request,
    user: StrategyEditorDep,
    session: StaffSessionDep,
    store: StrategiesDep,
    analytics: AnalyticsDep,
) -> HTMLResponse:
    lang = ui_language(request, user.ui_language)
    labels = request.app.state.container.config.labels

    def label(group: str, key: str) -> str:
        return str(labels.get(group, key, lang))

    q = request.query_params
    since = q.get("since", "") if _DAY.match(q.get("since", "")) else ""
    until = q.get("until", "") if _DAY.match(q.get("until", "")) else ""
    error = ""
    try:
        counts = await anyio.to_thread.run_sync(lambda: analytics.touch_counts(since=since, until=until))
    except ValidationFailedError as e:
        error = translate(f"lc_error_{e.code}", lang)
        since = until = ""
        counts = await anyio.to_thread.run_sync(analytics.touch_counts)
    found = await anyio.to_thread.run_sync(store.strategies)
    strategies = []
    for position, row in enumerate(found, start=1):
        d = row["definition"]
        touched = counts.get(row["id"], {})
        strategies.append(
            {
                "id": row["id"],
                "position": position,
                "text": (d.get("texts") or {}).get(lang, ""),
                "kind": translate(f"pf_kind_{d['what']['kind']}", lang),
                "when": _when(d, lang, label),
                "where": [translate(f"lc_where_{w}", lang) for w in d.get("where") or ()],
                "version": row["version"],
                "holdout": float(d.get("holdout") or 0.0),
                "enabled": d.get("enabled", True),
                "given": touched.get("touched:given", 0),
                "held_out": touched.get("holdout:held_out", 0),
                "skipped": sum(n for key, n in touched.items() if key.endswith(":skipped")),
            }
        )
    wanted = q.get("strategy", "")
    chosen = next((s for s in strategies if s["id"] == wanted and _ID.match(wanted)), None)
    words = {key: translate(key, lang) for key in all_keys() if key.startswith(("lc_", "an_aria_"))}
    words.update({key: translate(key, lang) for key in SCRIPT_KEYS})
    return page(
        request,
        "console_lifecycle.html",
        user=user,
        csrf=session.csrf_token,
        strategies=strategies,
        chosen=chosen,
        since=since,
        until=until,
        error=error,
        lifecycle_words=words,
    )
