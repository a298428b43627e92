"""Staff quality figures: per agent and per team, over 7, 30 or 90 days, the QA score per week,
compliance findings by rule, the emotion-conflict rate, first-contact resolution, handling time and
CSAT, all read from the QA engine's scorecards and findings. A team is the queue the agent worked
(`Scorecard.team`). Who may see which figures is `StaffQuality`'s check (`coaching`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helixdesk.auth.models import StaffUser
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.quality.models import Finding, Scorecard, Verdict
from helixdesk.quality.review_common import check_days

PERIODS = (7, 30, 90)
COMPLIANCE = "compliance"


@dataclass(frozen=True, slots=True)
class WeekPoint:
    week: str  # the Monday the week starts on (bank's local date)
    conversations: int
    score: float | None


@dataclass(frozen=True, slots=True)
class QualityStats:
    """One agent's or one team's figures over a period."""

    kind: str  # agent, team
    key: str  # the agent's id or the team
    name: str
    days: int
    conversations: int
    score: float | None
    trend: list[WeekPoint]
    compliance: dict[str, int]
    conflict_rate: float | None
    fcr_rate: float | None
    handled_seconds: float | None
    csat: float | None
    csat_count: int
    teams: list[str] = field(default_factory=list)

    @property
    def compliance_total(self) -> int:
        return sum(self.compliance.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "compliance_total": self.compliance_total}


@dataclass(frozen=True, slots=True)
class QualityOverview:
    days: int
    agents: list[QualityStats]
    teams: list[QualityStats]

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "agents": [a.to_dict() for a in self.agents],
            "teams": [t.to_dict() for t in self.teams],
        }


@dataclass(frozen=True, slots=True)
class _Card:
    agent_id: str | None
    team: str | None
    score: float
    conflict: bool
    fcr: bool | None
    csat: int | None
    handled_seconds: float | None
    at: datetime


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(1 for f in flags if f) / len(flags) if flags else None


def check_period(days: int) -> int:
    """A period of figures and suggestions: one of `PERIODS` days."""
    check_days(days)
    if days not in PERIODS:
        raise ValidationFailedError(
            f"the period is one of {', '.join(map(str, PERIODS))} days, not {days}", code="invalid_period"
        )
    return days


def overview_figures(s: Session, *, days: int, now: datetime, tz: tzinfo) -> QualityOverview:
    """Every agent's and every team's figures over the `days` up to `now`, weeks in `tz`."""
    since, weeks = _window(now, days, tz)
    cards = _cards(s, since)
    by_agent_rule, by_team_rule = _compliance(s, since)
    names = dict(s.execute(select(StaffUser.id, StaffUser.display_name)).all())
    per_agent: dict[str, list[_Card]] = defaultdict(list)
    per_team: dict[str, list[_Card]] = defaultdict(list)
    for c in cards:
        if c.agent_id:
            per_agent[c.agent_id].append(c)
        if c.team:
            per_team[c.team].append(c)
    agents = [
        _stats("agent", aid, names.get(aid, aid), days, weeks, rows, by_agent_rule.get(aid, {}), tz)
        for aid, rows in per_agent.items()
    ]
    teams = [
        _stats("team", team, team, days, weeks, rows, by_team_rule.get(team, {}), tz)
        for team, rows in per_team.items()
    ]
    agents.sort(key=lambda a: (a.score if a.score is not None else 101.0, a.name))
    teams.sort(key=lambda t: t.key)
    return QualityOverview(days=days, agents=agents, teams=teams)


def agent_figures(s: Session, agent_id: str, *, days: int, now: datetime, tz: tzinfo) -> QualityStats:
    """One agent's figures over the `days` up to `now`, weeks in `tz`."""
    since, weeks = _window(now, days, tz)
    user = s.get(StaffUser, agent_id)
    if user is None:
        raise NotFoundError(f"no staff member {agent_id}", code="agent_not_found")
    cards = _cards(s, since, agent_id=agent_id)
    by_agent_rule, _ = _compliance(s, since, agent_id=agent_id)
    return _stats(
        "agent", agent_id, user.display_name, days, weeks, cards, by_agent_rule.get(agent_id, {}), tz
    )


def _window(now: datetime, days: int, tz: tzinfo) -> tuple[datetime, list[date]]:
    since = now - timedelta(days=days)
    first = since.astimezone(tz).date()
    last = now.astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return since, weeks


def _cards(s: Session, since: datetime, *, agent_id: str | None = None) -> list[_Card]:
    when = func.coalesce(Scorecard.started_at, Scorecard.updated_at)
    query = select(
        Scorecard.agent_id,
        Scorecard.team,
        Scorecard.score,
        Scorecard.conflict,
        Scorecard.fcr,
        Scorecard.csat,
        Scorecard.handled_seconds,
        Scorecard.started_at,
        Scorecard.updated_at,
    ).where(when >= since)
    if agent_id is not None:
        query = query.where(Scorecard.agent_id == agent_id)
    out = []
    for aid, team, score, conflict, fcr, csat, handled, started, updated in s.execute(query):
        at = started or updated
        if at is None or at < since:  # coalesce over mixed types: check again in Python
            continue
        out.append(_Card(aid, team, float(score), bool(conflict), fcr, csat, handled, at))
    return out


def _compliance(
    s: Session, since: datetime, *, agent_id: str | None = None
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Compliance findings (not rejected) by agent and rule, and by team and rule."""
    base = [
        Finding.category == COMPLIANCE,
        Finding.verdict != Verdict.REJECTED.value,
        Finding.created_at >= since,
    ]
    if agent_id is not None:
        base.append(Finding.agent_id == agent_id)
    by_agent: dict[str, dict[str, int]] = defaultdict(dict)
    for aid, rule, n in s.execute(
        select(Finding.agent_id, Finding.rule, func.count())
        .where(*base, Finding.agent_id.is_not(None))
        .group_by(Finding.agent_id, Finding.rule)
    ):
        by_agent[str(aid)][rule] = n
    by_team: dict[str, dict[str, int]] = defaultdict(dict)
    if agent_id is None:
        for team, rule, n in s.execute(
            select(Scorecard.team, Finding.rule, func.count())
            .join(Scorecard, Scorecard.conversation_id == Finding.conversation_id)
            .where(*base, Scorecard.team.is_not(None))
            .group_by(Scorecard.team, Finding.rule)
        ):
            by_team[str(team)][rule] = n
    return by_agent, by_team


def _stats(
    kind: str,
    key: str,
    name: str,
    days: int,
    weeks: list[date],
    rows: list[_Card],
    compliance: dict[str, int],
    tz: tzinfo,
) -> QualityStats:
    per_week: dict[date, list[float]] = defaultdict(list)
    for c in rows:
        local = c.at.astimezone(tz).date()
        per_week[local - timedelta(days=local.weekday())].append(c.score)
    fcr = [c.fcr for c in rows if c.fcr is not None]
    csat = [float(c.csat) for c in rows if c.csat is not None]
    score = _mean([c.score for c in rows])
    return QualityStats(
        kind=kind,
        key=key,
        name=name,
        days=days,
        conversations=len(rows),
        score=round(score, 1) if score is not None else None,
        trend=[
            WeekPoint(
                week=w.isoformat(),
                conversations=len(per_week.get(w, [])),
                score=round(m, 1) if (m := _mean(per_week.get(w, []))) is not None else None,
            )
            for w in weeks
        ],
        compliance=dict(sorted(compliance.items())),
        conflict_rate=_rate([c.conflict for c in rows]),
        fcr_rate=_rate([bool(f) for f in fcr]),
        handled_seconds=_mean([c.handled_seconds for c in rows if c.handled_seconds is not None]),
        csat=_mean(csat),
        csat_count=len(csat),
        teams=sorted({c.team for c in rows if c.team}) if kind == "agent" else [],
    )
