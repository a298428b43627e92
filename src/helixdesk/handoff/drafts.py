"""The agent-to-bot loop: an agent's insight becomes a knowledge-base draft, which a supervisor
approves into the knowledge base (searchable at once) or rejects. Drafts are for every customer, so
they are stored masked like every message."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from helixdesk.audit import Target
from helixdesk.audit.context import staff_actor
from helixdesk.auth.service import StaffView
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.common import Desk
from helixdesk.handoff.models import KnowledgeDraft
from helixdesk.handoff.workspace import AgentWorkspace

DraftIngest = Callable[[KnowledgeDraft], str]


class KnowledgeDrafts:
    def __init__(
        self, desk: Desk, workspace: AgentWorkspace, *, ingest_draft: DraftIngest | None = None
    ) -> None:
        self._desk = desk
        self._workspace = workspace
        self._sessions = desk.sessions
        self._privacy = desk.writer.privacy
        self._ingest_draft = ingest_draft

    def create(
        self,
        user: StaffView,
        *,
        question: str,
        answer: str,
        language: str,
        intent: str | None = None,
        conversation_id: str | None = None,
        alternatives: Sequence[str] = (),
    ) -> dict[str, Any]:
        """An agent's insight becomes a knowledge-base draft, waiting for a supervisor's review
        (with `alternatives`, other ways customers asked it: searched, never shown)."""
        question, answer = question.strip(), answer.strip()
        if not 1 <= len(question) <= 500 or not 1 <= len(answer) <= 4000:
            raise ValidationFailedError(
                "a draft needs a question (up to 500 characters) and an answer (up to 4000)",
                code="invalid_draft",
            )
        if language not in LANGUAGES:
            raise ValidationFailedError("language must be zh-Hans, zh-Hant or en", code="invalid_language")
        with transaction(self._sessions) as s:
            if conversation_id:
                self._workspace.check_open(s, user, conversation_id)
            # A knowledge entry is for every customer: no one customer's numbers may end up in it.
            draft = KnowledgeDraft(
                question=self._privacy.mask(question).text,
                answer=self._privacy.mask(answer).text,
                language=language,
                intent=intent or None,
                conversation_id=conversation_id or None,
                alternatives=[self._privacy.mask(a.strip()[:500]).text for a in alternatives if a.strip()][
                    :20
                ]
                or None,
                author_id=user.id,
                author_name=user.display_name,
            )
            s.add(draft)
            s.flush()
            return _draft_dict(draft)

    def list(self, *, status: str | None = "draft") -> list[dict[str, Any]]:
        with reading(self._sessions) as s:
            query = select(KnowledgeDraft).order_by(KnowledgeDraft.created_at.desc()).limit(200)
            if status:
                query = query.where(KnowledgeDraft.status == status)
            return [_draft_dict(d) for d in s.scalars(query)]

    def review(self, reviewer: StaffView, draft_id: str, *, approve: bool, note: str = "") -> dict[str, Any]:
        """Approve (the entry joins the knowledge base at once) or reject a draft."""
        with transaction(self._sessions) as s:
            draft = s.get(KnowledgeDraft, draft_id, with_for_update=True)
            if draft is None:
                raise NotFoundError(f"no draft {draft_id}", code="draft_not_found")
            if draft.status != "draft":
                raise ValidationFailedError(f"this draft was already {draft.status}", code="draft_reviewed")
            draft.status = "approved" if approve else "rejected"
            draft.reviewer_id = reviewer.id
            if self._desk.audit is not None:
                self._desk.audit.record(
                    s,
                    actor=staff_actor(reviewer.id),
                    action="knowledge.draft_approved" if approve else "knowledge.draft_rejected",
                    target=Target("kb_draft", draft.id),
                    reason=self._privacy.mask(note.strip()[:500]).text,
                )
            draft.review_note = self._privacy.mask(note.strip()[:2000]).text or None
            draft.reviewed_at = utcnow()
            snapshot = _draft_dict(draft)
        if approve and self._ingest_draft is not None:
            with reading(self._sessions) as s:
                stored = s.get(KnowledgeDraft, draft_id)
            assert stored is not None
            # Outside the read: ingestion writes in its own transaction.
            source = self._ingest_draft(stored)
            with transaction(self._sessions) as s:
                stored = s.get(KnowledgeDraft, draft_id)
                if stored is not None:
                    stored.kb_source = source
                    snapshot = _draft_dict(stored)
        return snapshot


def _draft_dict(d: KnowledgeDraft) -> dict[str, Any]:
    return {
        "id": d.id,
        "question": d.question,
        "answer": d.answer,
        "language": d.language,
        "intent": d.intent,
        "conversation_id": d.conversation_id,
        "author": d.author_name,
        "status": d.status,
        "review_note": d.review_note,
        "kb_source": d.kb_source,
        "created_at": d.created_at.isoformat() if d.created_at else None,
    }
