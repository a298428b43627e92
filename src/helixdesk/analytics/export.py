"""The dashboards' figures as CSV: the summary (one row per metric, then the series per day) and
the drill-down's conversations."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

LISTED = (
    "id",
    "started_at",
    "channel",
    "language",
    "queue",
    "intent",
    "agent",
    "tier",
    "contained",
    "handed_off",
    "resolved",
    "csat",
    "first_response_seconds",
    "queue_wait_seconds",
    "handled_seconds",
    "sla_met",
)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # never a formula in a spreadsheet
    return "" if value is None else value


def summary_csv(summary: Mapping[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    period = summary["period"]
    w.writerow(["metric", "value", "previous", "numerator", "denominator", "unit", "from", "to"])
    for m in summary["metrics"]:
        w.writerow(
            [
                _cell(m["key"]),
                *(_cell(m.get(k)) for k in ("value", "previous", "numerator", "denominator", "unit")),
                period["from"],
                period["to"],
            ]
        )
    series = summary["series"]
    names = [k for k in series if k != "days"]
    w.writerow([])
    w.writerow(["day", *names])
    for i, day in enumerate(series["days"]):
        w.writerow([day, *(_cell(series[n][i]) for n in names)])
    return buf.getvalue()


def conversations_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(LISTED)
    for r in rows:
        w.writerow([_cell(r.get(k)) for k in LISTED])
    return buf.getvalue()
