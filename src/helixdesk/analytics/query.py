"""Reading the dashboards' figures: a period of days and filters over the rollups, the drill-down to
the conversations behind a figure, and the options of each filter.

The main figures, the per-day series and the breakdowns are sums over `analytics_cells` and
`analytics_counts` (a few rows per day and combination of dimensions, whatever the number of
conversations); the drill-down reads `analytics_facts`, a page at a time.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from helixdesk.analytics.metrics import BY_KEY, METRICS, SERIES, CostModel
from helixdesk.analytics.models import AnalyticsCell, AnalyticsCount, AnalyticsFact
from helixdesk.analytics.rollup import MEASURES
from helixdesk.auth.models import StaffUser
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.insight.models import InsightMessage, InsightTopic
from helixdesk.quality.models import Scorecard

PERIODS = ("day", "week", "month", "custom")
MAX_DAYS = 366
FILTERS = ("channel", "language", "queue", "intent", "agent", "tier")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,48}$")
# Breakdowns over the cells (a dimension) and over the counts (a kind).
CELL_BREAKDOWNS = {
    "intents": "intent",
    "queues": "queue",
    "channels": "channel",
    "tiers": "tier",
    "languages": "language",
}
COUNT_BREAKDOWNS = {"handoff_reasons": "reason", "emotions": "emotion", "risk_flags": "risk"}
# What a drill-down from a metric lists: (yes, no) conditions over the facts.
F = AnalyticsFact
_DRILL: dict[str, tuple[ColumnElement[bool], ColumnElement[bool] | None]] = {
    "volume": (F.conversation_id.is_not(None), None),
    "containment": (F.contained.is_(True), F.engaged.is_(True) & F.contained.is_(False)),
    "handoff_rate": (F.handed_off.is_(True), F.engaged.is_(True) & F.handed_off.is_(False)),
    "fcr": (F.closed.is_(True) & F.resolved.is_(True), F.closed.is_(True) & F.resolved.is_(False)),
    "csat": (F.csat.is_not(None), None),
    "first_response": (F.first_response_seconds.is_not(None), None),
    "queue_wait": (F.queue_wait_seconds.is_not(None), None),
    "abandonment": (F.abandoned.is_(True), F.handed_off.is_(True) & F.abandoned.is_(False)),
    "aht": (F.handled_seconds > 0, None),
    "transfers": (F.transfers > 0, None),
    "negative_rate": (F.negative.is_(True), F.engaged.is_(True) & F.negative.is_(False)),
    "risk_rate": (F.risky.is_(True), F.engaged.is_(True) & F.risky.is_(False)),
    "sla_compliance": (F.sla_met.is_(True), F.sla_met.is_(False)),
    "emotional_load": (F.emotional_load > 0, None),
    "cost_per_conversation": (F.conversation_id.is_not(None), None),
    "cost_saved": (F.contained.is_(True), None),
}


@dataclass(frozen=True, slots=True)
class Days:
    first: date
    last: date  # inclusive

    @property
    def count(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Days:
        return Days(self.first - timedelta(days=self.count), self.first - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.count)]


@dataclass(frozen=True, slots=True)
class Filters:
    channel: str | None = None
    language: str | None = None
    queue: str | None = None
    intent: str | None = None
    agent: str | None = None
    tier: str | None = None


def parse_days(kind: str | None, first: str | None, last: str | None, *, now: datetime, tz: tzinfo) -> Days:
    """The last day (today), 7 days or 30 days up to today in the bank's time zone, or `first` to
    `last` (YYYY-MM-DD, inclusive) for `custom` or when they are given."""
    today = now.astimezone(tz).date()
    if first or last or kind == "custom":
        if not first or not last:
            raise ValidationFailedError("give both from and to (YYYY-MM-DD)", code="invalid_period")
        try:
            days = Days(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError as e:
            raise ValidationFailedError("from and to must be dates, YYYY-MM-DD", code="invalid_period") from e
        if days.last < days.first:
            raise ValidationFailedError("from must be on or before to", code="invalid_period")
        if days.count > MAX_DAYS:
            raise ValidationFailedError(f"a period is at most {MAX_DAYS} days", code="invalid_period")
        return days
    kind = kind or "week"
    if kind not in PERIODS:
        raise ValidationFailedError(f"period must be one of {', '.join(PERIODS)}", code="invalid_period")
    span = {"day": 1, "week": 7, "month": 30}[kind]
    return Days(today - timedelta(days=span - 1), today)


def parse_filters(**values: str | None) -> Filters:
    if values.get("language") and values["language"] not in LANGUAGES:
        raise ValidationFailedError(
            f"language must be one of {', '.join(LANGUAGES)}", code="invalid_language"
        )
    for name, value in values.items():
        if value and not _NAME.match(value):
            raise ValidationFailedError(f"{name} must be a short name", code=f"invalid_{name}")
    return Filters(**{k: (v or None) for k, v in values.items()})


def _where(table: Any, days: Days, filters: Filters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [table.day >= days.first, table.day <= days.last]
    for name, value in asdict(filters).items():
        if value is not None:
            column = "agent_id" if name == "agent" else name
            conds.append(getattr(table, column) == value)
    return conds


class Analytics:
    def __init__(self, *, tz: tzinfo, cost: CostModel) -> None:
        self.tz = tz
        self.cost = cost

    # ---- the main figures ------------------------------------------------------------------

    def sums(self, s: Session, days: Days, filters: Filters) -> dict[str, float]:
        row = s.execute(
            select(*(func.coalesce(func.sum(getattr(AnalyticsCell, m)), 0) for m in MEASURES)).where(
                *_where(AnalyticsCell, days, filters)
            )
        ).one()
        return {m: float(v) for m, v in zip(MEASURES, row, strict=True)}

    def figures(self, sums: dict[str, float]) -> dict[str, dict[str, Any]]:
        out = {}
        for m in METRICS:
            fig = m.compute(sums, self.cost)
            value = int(fig.value) if m.unit == "count" and fig.value is not None else _round(fig.value)
            out[m.key] = {
                "value": value,
                "numerator": _whole(fig.numerator),
                "denominator": _whole(fig.denominator),
            }
        return out

    def summary(self, s: Session, days: Days, filters: Filters) -> dict[str, Any]:
        now = self.figures(self.sums(s, days, filters))
        before = self.figures(self.sums(s, days.previous(), filters))
        findings = self._compliance(s, days, filters)
        findings_before = self._compliance(s, days.previous(), filters)
        metrics = [
            {
                "key": m.key,
                "unit": m.unit,
                **now[m.key],
                "previous": before[m.key]["value"],
                **({"currency": self.cost.currency} if m.unit == "money" else {}),
            }
            for m in METRICS
        ]
        metrics.append(
            {
                "key": "compliance_findings",
                "unit": "count",
                "value": findings,
                "numerator": findings,
                "denominator": None,
                "previous": findings_before,
            }
        )
        return {
            "period": {"from": days.first.isoformat(), "to": days.last.isoformat(), "days": days.count},
            "filters": asdict(filters),
            "metrics": metrics,
            "series": self.series(s, days, filters),
            "breakdowns": self.breakdowns(s, days, filters),
        }

    def series(self, s: Session, days: Days, filters: Filters) -> dict[str, list[Any]]:
        rows = s.execute(
            select(AnalyticsCell.day, *(func.sum(getattr(AnalyticsCell, m)) for m in MEASURES))
            .where(*_where(AnalyticsCell, days, filters))
            .group_by(AnalyticsCell.day)
        ).all()
        by_day = {r[0]: {m: float(v or 0) for m, v in zip(MEASURES, r[1:], strict=True)} for r in rows}
        empty = dict.fromkeys(MEASURES, 0.0)
        out: dict[str, list[Any]] = {"days": [d.isoformat() for d in days.dates()]}
        for key in SERIES:
            metric = BY_KEY[key]
            values = [metric.compute(by_day.get(d, empty), self.cost).value for d in days.dates()]
            out[key] = [_whole(v) if metric.unit == "count" else _round(v) for v in values]
        return out

    def breakdowns(
        self, s: Session, days: Days, filters: Filters, *, top: int = 12
    ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        where = _where(AnalyticsCell, days, filters)
        for name, column in CELL_BREAKDOWNS.items():
            col = getattr(AnalyticsCell, column)
            total = func.sum(AnalyticsCell.conversations)
            rows = s.execute(
                select(col, total)
                .where(*where, col != "")
                .group_by(col)
                .order_by(total.desc(), col)
                .limit(top)
            ).all()
            out[name] = [{"key": k, "count": int(n)} for k, n in rows]
        cwhere = _where(AnalyticsCount, days, filters)
        for name, kind in COUNT_BREAKDOWNS.items():
            total = func.sum(AnalyticsCount.count)
            rows = s.execute(
                select(AnalyticsCount.key, total)
                .where(*cwhere, AnalyticsCount.kind == kind)
                .group_by(AnalyticsCount.key)
                .order_by(total.desc(), AnalyticsCount.key)
                .limit(top)
            ).all()
            out[name] = [{"key": k, "count": int(n)} for k, n in rows]
        out["agents"] = self._agents(s, where)
        out["hotspots"] = self._hotspots(s, days, filters, top=top)
        return out

    def _agents(self, s: Session, where: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
        c = AnalyticsCell
        rows = s.execute(
            select(
                c.agent_id,
                func.sum(c.conversations),
                func.sum(c.handled),
                func.sum(c.handled_sum),
                func.sum(c.rated),
                func.sum(c.csat_sum),
                func.sum(c.emotional_load),
            )
            .where(*where, c.agent_id != "")
            .group_by(c.agent_id)
        ).all()
        names = (
            dict(
                s.execute(
                    select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_([r[0] for r in rows]))
                ).all()
            )
            if rows
            else {}
        )
        out = []
        for agent, conversations, handled, handled_sum, rated, csat_sum, load in rows:
            out.append(
                {
                    "key": agent,
                    "label": names.get(agent, agent),
                    "conversations": int(conversations),
                    "handled_seconds": _round(float(handled_sum)),
                    "aht_seconds": _round(float(handled_sum) / handled) if handled else None,
                    "csat": _round(float(csat_sum) / rated) if rated else None,
                    "emotional_load": _round(float(load)),
                }
            )
        return sorted(out, key=lambda a: (-a["conversations"], a["label"]))

    def _hotspots(self, s: Session, days: Days, filters: Filters, *, top: int) -> list[dict[str, Any]]:
        """Insight's hotspots of the period: customer messages per topic (filters insight rows
        know: channel, language, queue)."""
        since, until = _bounds(days, self.tz)
        m = InsightMessage
        conds: list[ColumnElement[bool]] = [m.at >= since, m.at < until, m.topic_id.is_not(None)]
        for name in ("channel", "language", "queue"):
            value = getattr(filters, name)
            if value is not None:
                conds.append(getattr(m, name) == value)
        total = func.count()
        rows = s.execute(
            select(m.topic_id, total).where(*conds).group_by(m.topic_id).order_by(total.desc()).limit(top)
        ).all()
        words = (
            dict(
                s.execute(
                    select(InsightTopic.id, InsightTopic.keywords).where(
                        InsightTopic.id.in_([r[0] for r in rows])
                    )
                ).all()
            )
            if rows
            else {}
        )
        return [
            {
                "key": t,
                "label": " · ".join((words.get(str(t)) or [])[:3]) or t,
                "count": int(n),
                "url": f"/console/insight/topics/{t}",
            }
            for t, n in rows
        ]

    def _compliance(self, s: Session, days: Days, filters: Filters) -> int:
        """Compliance findings of quality monitoring in conversations started in the period (the
        filters its scorecards know: channel, language, agent)."""
        since, until = _bounds(days, self.tz)
        c = Scorecard
        conds: list[ColumnElement[bool]] = [c.started_at >= since, c.started_at < until]
        if filters.channel:
            conds.append(c.channel == filters.channel)
        if filters.language:
            conds.append(c.language == filters.language)
        if filters.agent:
            conds.append(c.agent_id == filters.agent)
        if filters.queue or filters.intent or filters.tier:
            ids = select(AnalyticsFact.conversation_id).where(*_where(AnalyticsFact, days, filters))
            conds.append(c.conversation_id.in_(ids))
        return int(s.scalar(select(func.coalesce(func.sum(c.compliance_findings), 0)).where(*conds)) or 0)

    # ---- drill-down ---------------------------------------------------------------------------

    def conversations(
        self,
        s: Session,
        days: Days,
        filters: Filters,
        *,
        metric: str,
        outcome: str = "yes",
        day: str | None = None,
        key: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> dict[str, Any]:
        conds = _where(AnalyticsFact, days, filters)
        conds.append(self._drill(metric, outcome, key))
        if day:
            try:
                conds.append(AnalyticsFact.day == date.fromisoformat(day))
            except ValueError as e:
                raise ValidationFailedError("day must be a date, YYYY-MM-DD", code="invalid_day") from e
        total = int(s.scalar(select(func.count()).select_from(AnalyticsFact).where(*conds)) or 0)
        rows = s.scalars(
            select(AnalyticsFact)
            .where(*conds)
            .order_by(AnalyticsFact.started_at.desc(), AnalyticsFact.conversation_id)
            .offset(offset)
            .limit(limit)
        ).all()
        agents = {r.agent_id for r in rows if r.agent_id}
        names = (
            dict(
                s.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(agents))).all()
            )
            if agents
            else {}
        )
        return {"total": total, "conversations": [_listed(r, names) for r in rows]}

    def _drill(self, metric: str, outcome: str, key: str | None) -> ColumnElement[bool]:
        if outcome not in ("yes", "no", "all"):
            raise ValidationFailedError("outcome must be yes, no or all", code="invalid_outcome")
        if metric in CELL_BREAKDOWNS or metric in COUNT_BREAKDOWNS or metric == "agents":
            if not key or not _NAME.match(key):
                raise ValidationFailedError(
                    f"a drill-down into {metric} needs the key of the bar", code="invalid_key"
                )
            if metric == "agents":
                return AnalyticsFact.agent_id == key
            if metric in CELL_BREAKDOWNS:
                column: Any = getattr(AnalyticsFact, CELL_BREAKDOWNS[metric])
                return column == key  # type: ignore[no-any-return]
            if metric == "handoff_reasons":
                return AnalyticsFact.handoff_reason == key
            column = AnalyticsFact.emotions if metric == "emotions" else AnalyticsFact.risks
            return cast(column, String).like(f'%"{key}"%')
        if metric not in _DRILL:
            known = ", ".join([*_DRILL, *CELL_BREAKDOWNS, *COUNT_BREAKDOWNS, "agents"])
            raise ValidationFailedError(
                f"unknown metric {metric!r}; metrics are {known}", code="invalid_metric"
            )
        yes, no = _DRILL[metric]
        if outcome == "yes":
            return yes
        if outcome == "no":
            if no is None:
                raise ValidationFailedError(f"{metric} has no 'no' side", code="invalid_outcome")
            return no
        return yes if no is None else (yes | no)

    # ---- the filters' options -------------------------------------------------------------------

    def options(self, s: Session, days: Days) -> dict[str, Any]:
        where = [AnalyticsCell.day >= days.first - timedelta(days=90), AnalyticsCell.day <= days.last]
        out: dict[str, Any] = {}
        for name, column in (
            ("channels", "channel"),
            ("languages", "language"),
            ("queues", "queue"),
            ("intents", "intent"),
            ("tiers", "tier"),
        ):
            col = getattr(AnalyticsCell, column)
            out[name] = sorted(v for v in s.scalars(select(col).where(*where, col != "").distinct()))
        ids = sorted(
            v
            for v in s.scalars(
                select(AnalyticsCell.agent_id).where(*where, AnalyticsCell.agent_id != "").distinct()
            )
        )
        names = (
            dict(s.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))).all())
            if ids
            else {}
        )
        out["agents"] = [{"key": i, "label": names.get(i, i)} for i in ids]
        return out


def _bounds(days: Days, tz: tzinfo) -> tuple[datetime, datetime]:
    since = datetime.combine(days.first, datetime.min.time(), tzinfo=tz)
    until = datetime.combine(days.last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return since, until


def _round(value: float | None) -> float | None:
    if value is None:
        return None
    return round(float(value), 4)


def _whole(value: float | None) -> float | int | None:
    """A count as an int; other values rounded."""
    if value is not None and float(value).is_integer():
        return int(value)
    return _round(value)


def _listed(r: AnalyticsFact, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": r.conversation_id,
        "started_at": r.started_at.isoformat(),
        "day": r.day.isoformat(),
        "channel": r.channel,
        "language": r.language or None,
        "queue": r.queue or None,
        "intent": r.intent or None,
        "agent": names.get(r.agent_id, r.agent_id) if r.agent_id else None,
        "tier": r.tier or None,
        "contained": r.contained,
        "handed_off": r.handed_off,
        "resolved": r.resolved if r.closed else None,
        "csat": r.csat,
        "first_response_seconds": r.first_response_seconds,
        "queue_wait_seconds": r.queue_wait_seconds,
        "handled_seconds": r.handled_seconds or None,
        "sla_met": r.sla_met,
        "url": f"/console/conversations/{r.conversation_id}",
    }
