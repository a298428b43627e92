"""Scheduled reports: the daily and the weekly summary as PDF files in a folder
(`analytics_reports_dir`), written by the analytics process (`helixdesk analytics run`).

- **Daily**: yesterday's report, once the day is over in the bank's time zone (`AFTER` past
  midnight, so the day's last events are in), `helixdesk-daily-YYYY-MM-DD.pdf`.
- **Weekly**: the last week, Monday to Sunday, from Monday (`AFTER` past midnight),
  `helixdesk-weekly-YYYY-Www.pdf` (the ISO week).

Each is written once: a report whose file is there is skipped, so a restart or a second analytics
process writes nothing again; a file is written under a temporary name and renamed, so a crash
leaves no half file under a report's name. After a stop the latest daily and weekly reports are
written at the next start; earlier missed days are not back-filled (`helixdesk analytics pdf`
writes any period by hand).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from helixdesk.analytics.query import Days
from helixdesk.core.errors import NotFoundError, ValidationFailedError

AFTER = timedelta(minutes=10)
NAME = re.compile(r"^helixdesk-(daily-\d{4}-\d{2}-\d{2}|weekly-\d{4}-W\d{2})\.pdf$")


@dataclass(frozen=True, slots=True)
class Scheduled:
    kind: str  # day or week
    days: Days
    name: str


def due(now: datetime, tz: tzinfo) -> list[Scheduled]:
    """The reports that should exist at `now`: yesterday's and the last full week's."""
    today = (now.astimezone(tz) - AFTER).date()
    yesterday = today - timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    week = Days(monday - timedelta(days=7), monday - timedelta(days=1))
    year, number, _ = week.first.isocalendar()
    return [
        Scheduled("day", Days(yesterday, yesterday), f"helixdesk-daily-{yesterday.isoformat()}.pdf"),
        Scheduled("week", week, f"helixdesk-weekly-{year}-W{number:02d}.pdf"),
    ]


def write_due(folder: Path, render: Callable[[Scheduled], bytes], *, now: datetime, tz: tzinfo) -> list[Path]:
    """Write the due reports that are not there yet (`render` makes one); returns those written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for report in due(now, tz):
        path = folder / report.name
        if path.exists():
            continue
        data = render(report)
        partial = folder / f".{report.name}.{os.getpid()}.part"
        partial.write_bytes(data)
        os.replace(partial, path)
        written.append(path)
    return written


def listed(folder: Path | None) -> list[dict[str, Any]]:
    """The reports in the folder, newest first."""
    if folder is None or not folder.is_dir():
        return []
    out = []
    for path in folder.iterdir():
        if not NAME.match(path.name) or not path.is_file():
            continue
        stat = path.stat()
        out.append(
            {
                "name": path.name,
                "kind": "week" if path.name.startswith("helixdesk-weekly-") else "day",
                "size": stat.st_size,
                "written_at": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
            }
        )
    return sorted(out, key=lambda r: (r["written_at"], r["name"]), reverse=True)


def report_path(folder: Path | None, name: str) -> Path:
    """The file of a scheduled report by its name (only names the scheduler writes)."""
    if not NAME.match(name):
        raise ValidationFailedError(
            "a report's name is helixdesk-daily-YYYY-MM-DD.pdf or helixdesk-weekly-YYYY-Www.pdf",
            code="invalid_report",
        )
    path = folder / name if folder is not None else None
    if path is None or not path.is_file():
        raise NotFoundError(f"no report {name}", code="report_not_found")
    return path
