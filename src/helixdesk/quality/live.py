"""Quality monitoring where people see it: the live check of an agent's draft, and the alert board.

- `DraftCheck.check(conversation_id, text, language)`: what the pack's rules say about a message
  an agent is about to send, in that conversation, to that customer: each finding with its span,
  why, the rule's sources and a compliant alternative. The console calls it while the agent types
  and again on send; a message with findings is sent only with the agent's reason, which is kept
  on the message (`meta.qa_override`) and on the finding the QA consumer stores.
- `AlertBoard`: the alerts the QA consumer raised, for supervisors, and their acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.auth.models import StaffUser
from helixdesk.conversations.errors import ConversationNotFoundError
from helixdesk.conversations.models import Conversation
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.quality.models import Alert, AlertStatus
from helixdesk.quality.monitor import QualityMonitor
from helixdesk.quality.rules import Line, RuleBook

MAX_DRAFT = 4000
ALERT_STATUSES = tuple(s.value for s in AlertStatus)


@dataclass(frozen=True, slots=True)
class DraftFinding:
    rule: str
    severity: str
    start: int
    end: int
    evidence: str
    reason: str
    alternative: str | None
    sources: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "evidence": self.evidence,
            "reason": self.reason,
            "alternative": self.alternative,
            "sources": self.sources,
        }


class DraftCheck:
    def __init__(self, *, sessions: sessionmaker[Session], book: RuleBook) -> None:
        self._sessions = sessions
        self.book = book
        self._monitor = QualityMonitor(book)

    def check(self, conversation_id: str, text: str, language: str = "zh-Hans") -> list[DraftFinding]:
        if len(text) > MAX_DRAFT:
            raise ValidationFailedError(f"a draft has at most {MAX_DRAFT} characters", code="draft_too_long")
        hits = self.book.check_message(text, "agent")
        with reading(self._sessions) as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
            facts = self._monitor.facts(s, conv)
        lines = [Line(m.sender, m.text) for m in facts.messages] + [Line("agent", text)]
        draft_line = len(lines) - 1
        hits += [h for h in self.book.check_products(lines, facts.customer) if h.line == draft_line]
        return [
            DraftFinding(
                rule=h.rule,
                severity=h.severity,
                start=h.start,
                end=h.end,
                evidence=h.evidence,
                reason=self.book.reason(h.rule, language),
                alternative=self.book.alternative(h.rule, language),
                sources=self.book.source_titles(h.rule, language),
            )
            for h in sorted(hits, key=lambda h: (h.start, h.rule))
        ]


class AlertBoard:
    def __init__(self, *, sessions: sessionmaker[Session], book: RuleBook) -> None:
        self._sessions = sessions
        self.book = book

    def list(
        self, *, status: str | None = "open", language: str = "zh-Hans", limit: int = 100
    ) -> list[dict[str, Any]]:
        if status is not None and status not in ALERT_STATUSES:
            raise ValidationFailedError(
                f"status is one of {', '.join(ALERT_STATUSES)}", code="invalid_alert_status"
            )
        with reading(self._sessions) as s:
            query = select(Alert, StaffUser.display_name).outerjoin(StaffUser, StaffUser.id == Alert.agent_id)
            if status is not None:
                query = query.where(Alert.status == status)
            rows = s.execute(query.order_by(Alert.created_at.desc()).limit(limit)).all()
            return [self._view(a, name, language) for a, name in rows]

    def _view(self, a: Alert, agent_name: str | None, language: str) -> dict[str, Any]:
        evidence = str((a.detail or {}).get("evidence") or "")
        return {
            "id": a.id,
            "conversation_id": a.conversation_id,
            "kind": a.kind,
            "severity": a.severity,
            "reason": self.book.reason(a.kind, language),
            "evidence": evidence,
            "detail": a.detail or {},
            "queue": a.queue,
            "agent_id": a.agent_id,
            "agent_name": agent_name,
            "status": a.status,
            "created_at": _iso(a.created_at),
            "handled_at": _iso(a.handled_at),
        }

    def acknowledge(
        self, alert_id: str, user_id: str, *, note: str = "", resolve: bool = False
    ) -> dict[str, Any]:
        with transaction(self._sessions) as s:
            alert = s.get(Alert, alert_id, with_for_update=True)
            if alert is None:
                raise NotFoundError(f"no alert {alert_id}", code="alert_not_found")
            alert.status = (AlertStatus.RESOLVED if resolve else AlertStatus.ACKNOWLEDGED).value
            alert.handled_by = user_id
            alert.handled_note = note or alert.handled_note
            alert.handled_at = utcnow()
            return {"id": alert.id, "status": alert.status}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
