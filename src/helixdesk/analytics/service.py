"""The dashboards' reader: a period and filters from the outside, checked, and the figures, the
filters' options and the drill-down, each in one read-only session."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.analytics.metrics import CostModel
from helixdesk.analytics.query import Analytics, Days, Filters, parse_days, parse_filters
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading


class AnalyticsReader:
    def __init__(self, *, sessions: sessionmaker[Session], tz: tzinfo, cost: CostModel) -> None:
        self._sessions = sessions
        self.analytics = Analytics(tz=tz, cost=cost)
        self.tz = tz

    def query(
        self, period: str | None, first: str | None, last: str | None, **filters: str | None
    ) -> tuple[Days, Filters]:
        return parse_days(period, first, last, now=utcnow(), tz=self.tz), parse_filters(**filters)

    def summary(self, days: Days, filters: Filters) -> dict[str, Any]:
        with reading(self._sessions) as s:
            out = self.analytics.summary(s, days, filters)
            out["options"] = self.analytics.options(s, days)
            return out

    def conversations(self, days: Days, filters: Filters, **drill: Any) -> dict[str, Any]:
        with reading(self._sessions) as s:
            return self.analytics.conversations(s, days, filters, **drill)
