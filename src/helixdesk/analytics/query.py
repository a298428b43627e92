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

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from helixdesk.analytics.metrics import BY_KEY, METRICS, SERIES, CostModel
from helixdesk.analytics.models import GRAINS, AnalyticsCell, AnalyticsCount, AnalyticsFact
from helixdesk.analytics.rollup import MEASURES
from helixdesk.auth.models import PresenceChange, StaffUser
from helixdesk.core.clock import utcnow
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


def conditions(
    table: Any, days: Days, filters: Filters, grain: str | None = None
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [table.day >= days.first, table.day <= days.last]
    if grain is not None:
        conds.append(table.grain == grain)
    for name, value in asdict(filters).items():
        if value is not None:
            column = "agent_id" if name == "agent" else name
            conds.append(getattr(table, column) == value)
    return conds


def grain_for(filters: Filters, *also: str) -> str:
    """The coarsest grain of the rollups that holds the dimensions filtered, and `also`."""
    need = set(also) | {"agent_id" if name == "agent" else name for name, v in asdict(filters).items() if v}
    return next(grain for grain, kept in GRAINS.items() if need <= kept)


def _total(rows: list[dict[str, float]]) -> dict[str, float]:
    out = dict.fromkeys(MEASURES, 0.0)
    for row in rows:
        for m in MEASURES:
            out[m] += row[m]
    return out


class Analytics:
    def __init__(self, *, tz: tzinfo, cost: CostModel) -> None:
        self.tz = tz
        self.cost = cost

    # ---- the main figures ------------------------------------------------------------------

    def per_day(self, s: Session, days: Days, filters: Filters) -> dict[date, dict[str, float]]:
        """The rollups' sums of each day of `days` (days without conversations are absent)."""
        c = AnalyticsCell
        rows = s.execute(
            select(c.day, *(func.sum(getattr(c, m)) for m in MEASURES))
            .where(*conditions(c, days, filters, grain_for(filters)))
            .group_by(c.day)
        ).all()
        return {r[0]: {m: float(v or 0) for m, v in zip(MEASURES, r[1:], strict=True)} for r in rows}

    def sums(self, s: Session, days: Days, filters: Filters) -> dict[str, float]:
        return _total(list(self.per_day(s, days, filters).values()))

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
        before_days = days.previous()
        by_day = self.per_day(s, Days(before_days.first, days.last), filters)
        now = self.figures(_total([v for d, v in by_day.items() if d >= days.first]))
        before = self.figures(_total([v for d, v in by_day.items() if d < days.first]))
        findings, findings_before = self._compliance(s, days, filters)
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
        breakdowns = self.breakdowns(s, days, filters)
        metrics.append(_occupancy(breakdowns["agents"]))
        return {
            "period": {"from": days.first.isoformat(), "to": days.last.isoformat(), "days": days.count},
            "filters": asdict(filters),
            "metrics": metrics,
            "series": self.series(days, by_day),
            "breakdowns": breakdowns,
        }

    def series(self, days: Days, by_day: dict[date, dict[str, float]]) -> dict[str, list[Any]]:
        empty = dict.fromkeys(MEASURES, 0.0)
        out: dict[str, list[Any]] = {"days": [d.isoformat() for d in days.dates()]}
        for key in SERIES:
            metric = BY_KEY[key]
            values = [metric.compute(by_day.get(d, empty), self.cost).value for d in days.dates()]
            out[key] = [_whole(v) if metric.unit == "count" else _round(v) for v in values]
        return out

    def _combinations(self, s: Session, days: Days, filters: Filters) -> list[tuple[str, str, str, str, int]]:
        """Conversations per channel, language, queue and tier (a few hundred rows at most)."""
        c = AnalyticsCell
        rows = s.execute(
            select(c.channel, c.language, c.queue, c.tier, func.sum(c.conversations))
            .where(*conditions(c, days, filters, grain_for(filters, "channel", "language", "queue", "tier")))
            .group_by(c.channel, c.language, c.queue, c.tier)
        ).all()
        return [(ch, lang, q, tier, int(n)) for ch, lang, q, tier, n in rows]

    def breakdowns(
        self, s: Session, days: Days, filters: Filters, *, top: int = 12
    ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        combos = self._combinations(s, days, filters)
        for name, column in CELL_BREAKDOWNS.items():
            if column == "intent":
                continue
            i = ("channel", "language", "queue", "tier").index(column)
            counted: dict[str, int] = {}
            for combo in combos:
                value = str(combo[i])
                if value:
                    counted[value] = counted.get(value, 0) + combo[4]
            out[name] = _top(counted, top)
        c = AnalyticsCell
        grain = grain_for(filters, "intent")
        total = func.sum(c.conversations)
        intents = s.execute(
            select(c.intent, total)
            .where(*conditions(c, days, filters, grain), c.intent != "")
            .group_by(c.intent)
        ).all()
        out["intents"] = _top({k: int(n) for k, n in intents}, top)
        k = AnalyticsCount
        rows = s.execute(
            select(k.kind, k.key, func.sum(k.count))
            .where(*conditions(k, days, filters, grain_for(filters)))
            .group_by(k.kind, k.key)
        ).all()
        for name, kind in COUNT_BREAKDOWNS.items():
            out[name] = _top({key: int(n) for kd, key, n in rows if kd == kind}, top)
        out["agents"] = self._agents(s, days, conditions(c, days, filters, grain_for(filters, "agent_id")))
        out["hotspots"] = self._hotspots(s, days, filters, top=top)
        return out

    def online_seconds(self, s: Session, days: Days, agents: list[str]) -> dict[str, float]:
        """How long each person was online in the period (up to now), from their presence changes
        (two queries, whatever the number of people)."""
        since, until = _bounds(days, self.tz)
        until = min(until, utcnow())
        out = dict.fromkeys(agents, 0.0)
        if not agents:
            return out
        p = PresenceChange
        latest = (
            select(p.user_id, func.max(p.at).label("at"))
            .where(p.user_id.in_(agents), p.at < since)
            .group_by(p.user_id)
            .subquery()
        )
        state: dict[str, str | None] = dict.fromkeys(agents)
        for user, presence in s.execute(
            select(p.user_id, p.presence).join(
                latest, (p.user_id == latest.c.user_id) & (p.at == latest.c.at)
            )
        ):
            state[user] = presence
        start = dict.fromkeys(agents, since)
        for user, presence, at in s.execute(
            select(p.user_id, p.presence, p.at)
            .where(p.user_id.in_(agents), p.at >= since, p.at < until)
            .order_by(p.user_id, p.at, p.id)
        ):
            if state[user] == "online":
                out[user] += (at - start[user]).total_seconds()
            state[user], start[user] = presence, at
        for user in agents:
            if state[user] == "online" and until > start[user]:
                out[user] += (until - start[user]).total_seconds()
        return out

    def _agents(self, s: Session, days: Days, where: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
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
        names = _names(s, [r[0] for r in rows])
        online = self.online_seconds(s, days, [r[0] for r in rows])
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
                    "online_seconds": _round(online[agent]),
                    "occupancy": _round(float(handled_sum) / online[agent]) if online[agent] else None,
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

    def _compliance(self, s: Session, days: Days, filters: Filters) -> tuple[int, int]:
        """Compliance findings of quality monitoring in conversations started in the period and in
        the one before it, in one read (the filters its scorecards know: channel, language, agent;
        the others through the facts)."""
        before = days.previous()
        since, until = _bounds(Days(before.first, days.last), self.tz)
        boundary = _bounds(days, self.tz)[0]
        c = Scorecard
        conds: list[ColumnElement[bool]] = [c.started_at >= since, c.started_at < until]
        if filters.channel:
            conds.append(c.channel == filters.channel)
        if filters.language:
            conds.append(c.language == filters.language)
        if filters.agent:
            conds.append(c.agent_id == filters.agent)
        if filters.queue or filters.intent or filters.tier:
            ids = select(AnalyticsFact.conversation_id).where(
                *conditions(AnalyticsFact, Days(before.first, days.last), filters)
            )
            conds.append(c.conversation_id.in_(ids))
        now, earlier = s.execute(
            select(
                func.coalesce(func.sum(case((c.started_at >= boundary, c.compliance_findings), else_=0)), 0),
                func.coalesce(func.sum(case((c.started_at < boundary, c.compliance_findings), else_=0)), 0),
            ).where(*conds)
        ).one()
        return int(now), int(earlier)

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
        conds = conditions(AnalyticsFact, days, filters)
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
        names = _names(s, sorted({r.agent_id for r in rows if r.agent_id}))
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
        """Every value each filter can take in the period and the 90 days before it."""
        span = Days(days.first - timedelta(days=90), days.last)
        none = Filters()
        combos = self._combinations(s, span, none)
        out: dict[str, Any] = {}
        for i, name in enumerate(("channels", "languages", "queues", "tiers")):
            out[name] = sorted({c[i] for c in combos if c[i]})
        c = AnalyticsCell
        out["intents"] = sorted(
            s.scalars(select(c.intent).where(*conditions(c, span, none, "intent"), c.intent != "").distinct())
        )
        ids = sorted(
            s.scalars(
                select(c.agent_id).where(*conditions(c, span, none, "agent"), c.agent_id != "").distinct()
            )
        )
        names = _names(s, ids)
        out["agents"] = [{"key": i, "label": names.get(i, i)} for i in ids]
        return out


def _occupancy(agents: list[dict[str, Any]]) -> dict[str, Any]:
    """The people's handling time over the time they were online (the agents the figures hold who
    were online in the period)."""
    present = [a for a in agents if a["online_seconds"]]
    handled = sum(a["handled_seconds"] or 0 for a in present)
    online = sum(a["online_seconds"] for a in present)
    return {
        "key": "occupancy",
        "unit": "ratio",
        "value": _round(handled / online) if online else None,
        "numerator": _round(handled),
        "denominator": _round(online),
        "previous": None,
    }


def _names(s: Session, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(s.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))).all())


def _top(counted: dict[str, int], top: int) -> list[dict[str, Any]]:
    ordered = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"key": k, "count": n} for k, n in ordered]


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
