"""Staff quality and coaching: `StaffQuality`, the one service behind the console's quality and
coaching pages. It holds who sees what (supervisors and QA reviewers see everyone; everyone else
sees their own figures and items only), the coaching suggestions drawn from the pattern of an
agent's findings (their texts are the pack's `quality/coaching.yaml`, read by `coaching_guide`),
and the coaching items a supervisor assigns and the agent works through. The figures per agent and
per team are read by `staff_figures`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import AuditLog, Target
from helixdesk.auth.errors import ForbiddenError
from helixdesk.auth.models import StaffUser
from helixdesk.auth.roles import is_qa_reviewer, is_supervisor
from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import Conversation
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.quality.coaching_guide import CoachingGuide
from helixdesk.quality.models import CoachingItem, CoachingStatus, Finding, Verdict
from helixdesk.quality.review_common import check_note, record
from helixdesk.quality.staff_figures import (
    QualityOverview,
    QualityStats,
    agent_figures,
    check_period,
    overview_figures,
)

MAX_EXAMPLES = 3
MAX_TITLE = 200
MAX_DUE_DAYS = 366
# Findings that count towards coaching: confirmed by a reviewer, or not reviewed yet.
COUNTED = (Verdict.CONFIRMED.value, Verdict.PENDING.value)
STATUSES = tuple(s.value for s in CoachingStatus)


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

    # ---- figures (staff_figures) ----------------------------------------------------------------

    def overview(self, viewer: StaffView, *, days: int = 30) -> QualityOverview:
        """Every agent's and every team's figures (supervisors and QA reviewers)."""
        if not self.sees_everyone(viewer):
            raise ForbiddenError("only supervisors and QA reviewers see everyone's quality")
        days = check_period(days)
        now = self._clock()
        with reading(self._sessions) as s:
            return overview_figures(s, days=days, now=now, tz=self._tz)

    def agent(self, viewer: StaffView, agent_id: str, *, days: int = 30) -> QualityStats:
        """One agent's figures: their own, or anyone's for supervisors and QA reviewers."""
        self._check_sees(viewer, agent_id)
        days = check_period(days)
        now = self._clock()
        with reading(self._sessions) as s:
            return agent_figures(s, agent_id, days=days, now=now, tz=self._tz)

    # ---- coaching suggestions -------------------------------------------------------------------

    def suggestions(
        self, viewer: StaffView, agent_id: str, *, days: int = 30, language: str = "zh-Hans"
    ) -> list[Suggestion]:
        """What the pattern of an agent's findings suggests they work on, most findings first, each
        with up to three of their own conversations that show it."""
        self._check_sees(viewer, agent_id)
        days = check_period(days)
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
