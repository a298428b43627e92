"""The dashboards' reader: a period and filters from the outside, checked, and the figures, the
filters' options and the drill-down, each in one read-only session; a change's effect and what can
be evaluated; the summary as a PDF report and the scheduled reports written (`analytics.schedule`)."""

from __future__ import annotations

import time
from datetime import tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.analytics import schedule
from helixdesk.analytics.evaluation import Change, choices, evaluate
from helixdesk.analytics.metrics import CostModel
from helixdesk.analytics.pdf import ValueLabels, render_pdf
from helixdesk.analytics.query import Analytics, Days, Filters, parse_days, parse_filters
from helixdesk.analytics.strategy_effect import Window, strategy_effect, touch_counts
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading
from helixdesk.lifecycle.config import ChurnRules

OPTIONS_SECONDS = 60.0


class AnalyticsReader:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        tz: tzinfo,
        cost: CostModel,
        labels: ValueLabels | None = None,
        reports_dir: str = "",
        churn: ChurnRules | None = None,
    ) -> None:
        self._sessions = sessions
        self.churn = churn  # the lifecycle's churn rules: the evaluation's retention
        self.analytics = Analytics(tz=tz, cost=cost)
        self.tz = tz
        self.labels = labels
        self.reports_dir = Path(reports_dir) if reports_dir else None
        # The filters' options change slowly (a new intent, a new agent): read once a minute.
        self._options: dict[Days, tuple[float, dict[str, Any]]] = {}

    def query(
        self, period: str | None, first: str | None, last: str | None, **filters: str | None
    ) -> tuple[Days, Filters]:
        return parse_days(period, first, last, now=utcnow(), tz=self.tz), parse_filters(**filters)

    def summary(self, days: Days, filters: Filters) -> dict[str, Any]:
        with reading(self._sessions) as s:
            out = self.analytics.summary(s, days, filters)
            out["options"] = self._filter_options(s, days)
            return out

    def _filter_options(self, s: Session, days: Days) -> dict[str, Any]:
        cached = self._options.get(days)
        if cached is None or time.monotonic() - cached[0] > OPTIONS_SECONDS:
            cached = (time.monotonic(), self.analytics.options(s, days))
            self._options = {days: cached}  # the latest period only
        return cached[1]

    def effect(self, change: str, days: Days, filters: Filters) -> dict[str, Any]:
        parsed = Change.parse(change)
        with reading(self._sessions) as s:
            return evaluate(s, parsed, days, filters, churn=self.churn)

    def effect_choices(self, days: Days, filters: Filters, *, language: str) -> dict[str, Any]:
        """What can be evaluated in the period (`evaluation.choices`), with the period and the
        filters' options (as the summary gives them)."""
        with reading(self._sessions) as s:
            return {
                "period": {"from": days.first.isoformat(), "to": days.last.isoformat(), "days": days.count},
                **choices(s, days, filters, language=language),
                "options": self._filter_options(s, days),
            }

    def strategy_effect(
        self, strategy_id: str, *, since: str | None, until: str | None, version: int | None = None
    ) -> dict[str, Any]:
        """A lifecycle strategy's touched arm against its holdout arm (`strategy_effect`), over the
        touches from `since` to `until` (days in the bank's time zone)."""
        window = Window.parse(since, until)
        with reading(self._sessions) as s:
            return strategy_effect(
                s, strategy_id, window=window, tz=self.tz, churn=self.churn or ChurnRules(), version=version
            )

    def touch_counts(self, *, since: str | None = None, until: str | None = None) -> dict[str, Any]:
        """Every strategy's touches from `since` to `until`, by arm and status."""
        window = Window.parse(since, until)
        with reading(self._sessions) as s:
            return touch_counts(s, window=window, tz=self.tz)

    def conversations(self, days: Days, filters: Filters, **drill: Any) -> dict[str, Any]:
        with reading(self._sessions) as s:
            return self.analytics.conversations(s, days, filters, **drill)

    # ---- reports -------------------------------------------------------------------------------

    def pdf(self, days: Days, filters: Filters, *, language: str, kind: str = "custom") -> bytes:
        """The summary of the period as a PDF report in `language`."""
        with reading(self._sessions) as s:
            summary = self.analytics.summary(s, days, filters)
        return render_pdf(
            summary,
            language=language,
            kind=kind,
            labels=self.labels,
            generated_at=utcnow().astimezone(self.tz),
        )

    def write_scheduled(self, *, language: str) -> list[Path]:
        """Write the daily and weekly reports that are due and not written yet."""
        if self.reports_dir is None:
            return []
        return schedule.write_due(
            self.reports_dir,
            lambda report: self.pdf(report.days, Filters(), language=language, kind=report.kind),
            now=utcnow(),
            tz=self.tz,
        )

    def reports(self) -> list[dict[str, Any]]:
        return schedule.listed(self.reports_dir)

    def report_file(self, name: str) -> Path:
        return schedule.report_path(self.reports_dir, name)
