"""Staff quality and coaching: per agent and per team, over 7, 30 or 90 days, the QA score per week,
compliance findings by rule, the emotion-conflict rate, first-contact resolution, handling time and
CSAT, all read from the QA engine's scorecards and findings; coaching suggestions from the pattern
of an agent's findings (the texts are the pack's `quality/coaching.yaml`), and the coaching items a
supervisor assigns and the agent works through.

A team is the queue the agent worked (`Scorecard.team`). Supervisors and QA reviewers see everyone;
everyone else sees their own figures and items only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import AuditLog, Target
from helixdesk.auth.errors import ForbiddenError
from helixdesk.auth.models import StaffUser
from helixdesk.auth.roles import is_qa_reviewer, is_supervisor
from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import Conversation
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConfigurationError, NotFoundError, ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.db.session import reading, transaction
from helixdesk.quality.models import CoachingItem, CoachingStatus, Finding, Scorecard, Verdict
from helixdesk.quality.review import check_days, check_note, record

PERIODS = (7, 30, 90)
COMPLIANCE = "compliance"
MAX_EXAMPLES = 3
MAX_TITLE = 200
MAX_DUE_DAYS = 366
# Findings that count towards coaching: confirmed by a reviewer, or not reviewed yet.
COUNTED = (Verdict.CONFIRMED.value, Verdict.PENDING.value)
STATUSES = tuple(s.value for s in CoachingStatus)


# ---- the pack's coaching texts ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleGuide:
    name: dict[str, str]
    title: dict[str, str]
    detail: dict[str, str]
    min_findings: int


@dataclass(frozen=True, slots=True)
class CoachingGuide:
    """Per rule: its name, the suggestion's title and detail (zh-Hans, zh-Hant, en), and how many
    findings in the period call for it."""

    rules: dict[str, RuleGuide] = field(default_factory=dict)
    min_findings: int = 2

    @classmethod
    def load(cls, path: Path) -> CoachingGuide:
        if not path.is_file():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        default_min = int(data.get("min_findings", 2))
        rules: dict[str, RuleGuide] = {}
        for rule, entry in (data.get("rules") or {}).items():
            texts: dict[str, dict[str, str]] = {}
            for part in ("name", "title", "detail"):
                words = entry.get(part) or {}
                if set(words) != set(LANGUAGES):
                    raise ConfigurationError(
                        f"{path}: rule {rule!r} needs its {part} in {', '.join(LANGUAGES)}",
                        code="invalid_coaching_guide",
                    )
                texts[part] = {k: str(v).strip() for k, v in words.items()}
            minimum = int(entry.get("min_findings", default_min))
            if minimum < 1:
                raise ConfigurationError(
                    f"{path}: rule {rule!r}: min_findings is at least 1", code="invalid_coaching_guide"
                )
            rules[str(rule)] = RuleGuide(
                name=texts["name"], title=texts["title"], detail=texts["detail"], min_findings=minimum
            )
        return cls(rules=rules, min_findings=default_min)

    @classmethod
    def for_pack(cls, pack_path: Path) -> CoachingGuide:
        return cls.load(pack_path / "quality" / "coaching.yaml")

    def name(self, rule: str, language: str) -> str:
        guide = self.rules.get(rule)
        return guide.name.get(language, rule) if guide else rule

    def names(self, language: str) -> dict[str, str]:
        return {rule: g.name.get(language, rule) for rule, g in self.rules.items()}


# ---- figures ------------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class Suggestion:
    rule: str
    name: str
    findings: int
    confirmed: int
    pending: int
    title: str
    detail: str
    examples: list[dict[str, Any]]
    open_item: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(1 for f in flags if f) / len(flags) if flags else None


class StaffQuality:
    """Figures per agent and team, coaching suggestions, and coaching items."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        guide: CoachingGuide,
        audit: AuditLog | None = None,
        tz: tzinfo = UTC,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.guide = guide
        self._audit = audit
        self._tz = tz
        self._clock = clock

    # ---- who sees what --------------------------------------------------------------------------

    @staticmethod
    def sees_everyone(user: StaffView) -> bool:
        return is_qa_reviewer(user.roles)

    def _check_sees(self, viewer: StaffView, agent_id: str) -> None:
        if agent_id != viewer.id and not self.sees_everyone(viewer):
            raise ForbiddenError("you can see only your own quality figures and coaching")

    @staticmethod
    def _period(days: int) -> int:
        check_days(days)
        if days not in PERIODS:
            raise ValidationFailedError(
                f"the period is one of {', '.join(map(str, PERIODS))} days, not {days}", code="invalid_period"
            )
        return days

    # ---- figures --------------------------------------------------------------------------------

    def overview(self, viewer: StaffView, *, days: int = 30) -> QualityOverview:
        """Every agent's and every team's figures (supervisors and QA reviewers)."""
        if not self.sees_everyone(viewer):
            raise ForbiddenError("only supervisors and QA reviewers see everyone's quality")
        days = self._period(days)
        since, weeks = self._window(days)
        with reading(self._sessions) as s:
            cards = self._cards(s, since)
            by_agent_rule, by_team_rule = self._compliance(s, since)
            names = dict(s.execute(select(StaffUser.id, StaffUser.display_name)).all())
        per_agent: dict[str, list[_Card]] = defaultdict(list)
        per_team: dict[str, list[_Card]] = defaultdict(list)
        for c in cards:
            if c.agent_id:
                per_agent[c.agent_id].append(c)
            if c.team:
                per_team[c.team].append(c)
        agents = [
            self._stats("agent", aid, names.get(aid, aid), days, weeks, rows, by_agent_rule.get(aid, {}))
            for aid, rows in per_agent.items()
        ]
        teams = [
            self._stats("team", team, team, days, weeks, rows, by_team_rule.get(team, {}))
            for team, rows in per_team.items()
        ]
        agents.sort(key=lambda a: (a.score if a.score is not None else 101.0, a.name))
        teams.sort(key=lambda t: t.key)
        return QualityOverview(days=days, agents=agents, teams=teams)

    def agent(self, viewer: StaffView, agent_id: str, *, days: int = 30) -> QualityStats:
        """One agent's figures: their own, or anyone's for supervisors and QA reviewers."""
        self._check_sees(viewer, agent_id)
        days = self._period(days)
        since, weeks = self._window(days)
        with reading(self._sessions) as s:
            user = s.get(StaffUser, agent_id)
            if user is None:
                raise NotFoundError(f"no staff member {agent_id}", code="agent_not_found")
            cards = self._cards(s, since, agent_id=agent_id)
            by_agent_rule, _ = self._compliance(s, since, agent_id=agent_id)
        return self._stats(
            "agent", agent_id, user.display_name, days, weeks, cards, by_agent_rule.get(agent_id, {})
        )

    def _window(self, days: int) -> tuple[datetime, list[date]]:
        now = self._clock()
        since = now - timedelta(days=days)
        first = since.astimezone(self._tz).date()
        last = now.astimezone(self._tz).date()
        monday = first - timedelta(days=first.weekday())
        weeks = []
        while monday <= last:
            weeks.append(monday)
            monday += timedelta(days=7)
        return since, weeks

    def _cards(self, s: Session, since: datetime, *, agent_id: str | None = None) -> list[_Card]:
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
        self, s: Session, since: datetime, *, agent_id: str | None = None
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
        self,
        kind: str,
        key: str,
        name: str,
        days: int,
        weeks: list[date],
        rows: list[_Card],
        compliance: dict[str, int],
    ) -> QualityStats:
        per_week: dict[date, list[float]] = defaultdict(list)
        for c in rows:
            local = c.at.astimezone(self._tz).date()
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

    # ---- coaching suggestions -------------------------------------------------------------------

    def suggestions(
        self, viewer: StaffView, agent_id: str, *, days: int = 30, language: str = "zh-Hans"
    ) -> list[Suggestion]:
        """What the pattern of an agent's findings suggests they work on, most findings first, each
        with up to three of their own conversations that show it."""
        self._check_sees(viewer, agent_id)
        days = self._period(days)
        since = self._clock() - timedelta(days=days)
        with reading(self._sessions) as s:
            findings = s.execute(
                select(
                    Finding.rule,
                    Finding.verdict,
                    Finding.conversation_id,
                    Finding.evidence,
                    Finding.created_at,
                )
                .where(
                    Finding.agent_id == agent_id,
                    Finding.verdict.in_(COUNTED),
                    Finding.created_at >= since,
                )
                .order_by(Finding.created_at.desc(), Finding.id)
            ).all()
            open_items = {
                rule: item_id
                for rule, item_id in s.execute(
                    select(CoachingItem.rule, CoachingItem.id)
                    .where(
                        CoachingItem.agent_id == agent_id,
                        CoachingItem.status != CoachingStatus.DONE.value,
                        CoachingItem.rule.is_not(None),
                    )
                    .order_by(CoachingItem.created_at)
                )
            }
        counts: Counter[str] = Counter()
        confirmed: Counter[str] = Counter()
        examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rule, verdict, conversation_id, evidence, created in findings:
            counts[rule] += 1
            if verdict == Verdict.CONFIRMED.value:
                confirmed[rule] += 1
            shown = examples[rule]
            if len(shown) < MAX_EXAMPLES and all(e["conversation_id"] != conversation_id for e in shown):
                shown.append(
                    {
                        "conversation_id": conversation_id,
                        "evidence": evidence,
                        "at": created.astimezone(self._tz).isoformat(),
                    }
                )
        out = []
        for rule, n in counts.items():
            guide = self.guide.rules.get(rule)
            if guide is None or n < guide.min_findings:
                continue
            out.append(
                Suggestion(
                    rule=rule,
                    name=guide.name.get(language, rule),
                    findings=n,
                    confirmed=confirmed[rule],
                    pending=n - confirmed[rule],
                    title=guide.title.get(language, ""),
                    detail=guide.detail.get(language, ""),
                    examples=examples[rule],
                    open_item=open_items.get(rule),
                )
            )
        out.sort(key=lambda x: (-x.confirmed, -x.findings, x.rule))
        return out

    # ---- coaching items -------------------------------------------------------------------------

    def assign(
        self,
        supervisor: StaffView,
        *,
        agent_id: str,
        title: str,
        due_on: date | str,
        rule: str | None = None,
        detail: str = "",
        examples: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A supervisor asks an agent to work on something, by a date, with example conversations."""
        if not is_supervisor(supervisor.roles):
            raise ForbiddenError("only supervisors assign coaching")
        title = (title or "").strip()
        if not 1 <= len(title) <= MAX_TITLE:
            raise ValidationFailedError(
                f"a coaching item needs a title of 1 to {MAX_TITLE} characters", code="invalid_title"
            )
        if rule is not None and rule not in self.guide.rules:
            raise ValidationFailedError(
                f"unknown rule {rule!r}; rules are: {', '.join(sorted(self.guide.rules))}",
                code="invalid_rule",
            )
        due = self._due(due_on)
        text = check_note(detail, what="detail") or ""
        chosen = list(dict.fromkeys(e.strip() for e in examples if e and e.strip()))
        if len(chosen) > MAX_EXAMPLES or any(len(e) > 36 for e in chosen):
            raise ValidationFailedError(
                f"give at most {MAX_EXAMPLES} example conversations", code="invalid_examples"
            )
        with transaction(self._sessions) as s:
            agent = s.get(StaffUser, agent_id)
            if agent is None or agent.disabled:
                raise NotFoundError(f"no active staff member {agent_id}", code="agent_not_found")
            if chosen:
                found = set(s.scalars(select(Conversation.id).where(Conversation.id.in_(chosen))))
                if found != set(chosen):
                    raise ValidationFailedError(
                        "an example conversation does not exist: " + ", ".join(sorted(set(chosen) - found)),
                        code="invalid_examples",
                    )
            now = self._clock()
            item = CoachingItem(
                agent_id=agent_id,
                rule=rule,
                title=title,
                detail=text,
                examples=chosen,
                status=CoachingStatus.ASSIGNED.value,
                assigned_by=supervisor.id,
                due_on=due,
                created_at=now,
                updated_at=now,
            )
            s.add(item)
            s.flush()
            record(
                self._audit,
                s,
                supervisor,
                "quality.coaching_assigned",
                Target("coaching_item", item.id),
                details={"agent": agent_id, "rule": rule, "due_on": due.date().isoformat()},
            )
            return self._item_dict(s, item)

    def items(
        self, viewer: StaffView, *, agent_id: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Coaching items, open ones first, the soonest due first. Supervisors and QA reviewers see
        anyone's (`agent_id` narrows it); everyone else sees their own."""
        if agent_id is None and not self.sees_everyone(viewer):
            agent_id = viewer.id
        if agent_id is not None:
            self._check_sees(viewer, agent_id)
        if status is not None and status not in STATUSES:
            raise ValidationFailedError(
                f"a status is one of {', '.join(STATUSES)}, not {status!r}", code="invalid_status"
            )
        query = select(CoachingItem)
        if agent_id is not None:
            query = query.where(CoachingItem.agent_id == agent_id)
        if status is not None:
            query = query.where(CoachingItem.status == status)
        with reading(self._sessions) as s:
            rows = list(s.scalars(query.order_by(CoachingItem.created_at.desc()).limit(500)))
            names = self._names(s, rows)
            out = [self._item_dict(s, r, names) for r in rows]
        out.sort(key=lambda i: (i["status"] == CoachingStatus.DONE.value, i["due_on"] or "9999"))
        return out

    def update(self, viewer: StaffView, item_id: str, *, status: str, note: str = "") -> dict[str, Any]:
        """The agent marks their item in progress or done, with a note; a supervisor may also
        reopen it (`assigned`)."""
        if status not in STATUSES:
            raise ValidationFailedError(
                f"a status is one of {', '.join(STATUSES)}, not {status!r}", code="invalid_status"
            )
        text = check_note(note)
        supervisor = is_supervisor(viewer.roles)
        with transaction(self._sessions) as s:
            item = s.get(CoachingItem, item_id, with_for_update=True)
            if item is None:
                raise NotFoundError(f"no coaching item {item_id}", code="coaching_item_not_found")
            if item.agent_id != viewer.id and not supervisor:
                raise ForbiddenError("this coaching item is someone else's", code="not_your_coaching_item")
            if status == CoachingStatus.ASSIGNED.value and not supervisor:
                raise ValidationFailedError(
                    "mark it in_progress or done (only a supervisor reopens an item)", code="invalid_status"
                )
            previous = item.status
            item.status = status
            if text is not None and item.agent_id == viewer.id:
                item.agent_note = text
            item.updated_at = self._clock()
            s.flush()
            record(
                self._audit,
                s,
                viewer,
                "quality.coaching_updated",
                Target("coaching_item", item.id),
                details={"status": status, "previous": previous},
                reason=text or "",
            )
            return self._item_dict(s, item)

    # ---- helpers --------------------------------------------------------------------------------

    def _due(self, value: date | str) -> datetime:
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise ValidationFailedError(
                    f"the due date is a date such as 2026-12-31, not {value!r}", code="invalid_due_date"
                ) from None
        if isinstance(value, datetime):
            value = value.date()
        today = self._clock().astimezone(self._tz).date()
        if not today <= value <= today + timedelta(days=MAX_DUE_DAYS):
            raise ValidationFailedError(
                f"the due date is between today and {MAX_DUE_DAYS} days from now", code="invalid_due_date"
            )
        # Stored as the start of that day in the bank's time zone.
        return datetime.combine(value, time(), tzinfo=self._tz).astimezone(UTC)

    def _names(self, s: Session, rows: Sequence[CoachingItem]) -> dict[str, str]:
        ids = {i for r in rows for i in (r.agent_id, r.assigned_by) if i}
        if not ids:
            return {}
        return dict(
            s.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))).all()
        )

    def _item_dict(
        self, s: Session, item: CoachingItem, names: dict[str, str] | None = None
    ) -> dict[str, Any]:
        if names is None:
            names = self._names(s, [item])
        due = item.due_on.astimezone(self._tz).date() if item.due_on else None
        today = self._clock().astimezone(self._tz).date()
        return {
            "id": item.id,
            "agent_id": item.agent_id,
            "agent": names.get(item.agent_id, item.agent_id),
            "rule": item.rule,
            "title": item.title,
            "detail": item.detail,
            "examples": list(item.examples or []),
            "status": item.status,
            "assigned_by": item.assigned_by,
            "assigned_by_name": names.get(item.assigned_by or ""),
            "due_on": due.isoformat() if due else None,
            "overdue": bool(due and due < today and item.status != CoachingStatus.DONE.value),
            "agent_note": item.agent_note,
            "created_at": item.created_at.astimezone(self._tz).isoformat() if item.created_at else None,
            "updated_at": item.updated_at.astimezone(self._tz).isoformat() if item.updated_at else None,
        }
