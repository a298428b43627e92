"""Human review of the QA engine's findings (AI pre-review, then human review).

A QA reviewer (or a supervisor) works a queue: every conversation with findings still pending, and
a stable random sample of the closed ones (`sample_percent` of them, decided by a hash of the
conversation id, so a conversation is always in the sample or always out; `Scorecard.sampled`).
Opening one shows the masked transcript with each finding's evidence highlighted in its message;
the reviewer confirms or rejects each finding (with an optional note) and gives the conversation a
score of their own (0-100). Every verdict and review is an audit entry; reviewing again updates.

The agreement per rule (confirmed / reviewed) shows which rules misfire. The random sample, drawn
without looking at the findings, is the unbiased part of the queue: what reviewers find in it that
the engine missed is the engine's miss rate.

This module holds `QualityReview` (who may review, verdicts and reviews, their audit entries) and
`VerdictInput`; the queue and its sample are in `review_queue`, one conversation's review view in
`review_view`, the agreement per rule in `review_agreement`, and what review shares with coaching in
`review_common`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import AuditLog, Target
from helixdesk.auth.errors import ForbiddenError
from helixdesk.auth.roles import is_qa_reviewer
from helixdesk.auth.service import StaffView, staff_names
from helixdesk.conversations.models import Conversation, Customer
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConflictError, NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.llm.assistant import Assistant
from helixdesk.quality.models import Finding, Scorecard, Verdict
from helixdesk.quality.review_agreement import AgreementReport, agreement_report
from helixdesk.quality.review_common import check_days, check_note, record
from helixdesk.quality.review_queue import MAX_QUEUE, QueueItem, mark_sampled, queue_items
from helixdesk.quality.review_view import ReviewView, finding_dict, read_review, scorecard_dict
from helixdesk.quality.second_opinion import ask_second_opinion, check_on

JUDGED = (Verdict.CONFIRMED.value, Verdict.REJECTED.value)


@dataclass(frozen=True, slots=True)
class VerdictInput:
    finding_id: str
    verdict: str
    note: str = ""


class QualityReview:
    """The review queue, one conversation's review, verdicts, and the agreement per rule."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        audit: AuditLog | None = None,
        sample_percent: float = 5.0,
        sample_window_days: int = 30,
        tz: tzinfo = UTC,
        clock: Callable[[], datetime] = utcnow,
        assistant: Assistant | None = None,
    ) -> None:
        if not 0 <= sample_percent <= 100 or math.isnan(sample_percent):
            raise ValueError("sample_percent is 0 to 100")
        self._sessions = sessions
        self._audit = audit
        self.sample_percent = sample_percent
        self._window = timedelta(days=sample_window_days)
        self._tz = tz
        self._clock = clock
        self._assistant = assistant  # the optional LLM's second opinion (docs/llm.md)

    # ---- who may do what ------------------------------------------------------------------------

    @staticmethod
    def check_reviewer(user: StaffView) -> None:
        if not is_qa_reviewer(user.roles):
            raise ForbiddenError("only QA reviewers and supervisors review conversations")

    # ---- the queue (review_queue) ---------------------------------------------------------------

    def mark_sample(self) -> int:
        """Mark the closed conversations of the last `sample_window_days` that fall in the sample
        (`Scorecard.sampled`); returns how many were newly marked. Idempotent."""
        since = self._clock() - self._window
        with transaction(self._sessions) as s:
            return mark_sampled(s, percent=self.sample_percent, since=since)

    def queue(self, reviewer: StaffView, *, done: bool = False, limit: int = MAX_QUEUE) -> list[QueueItem]:
        """Conversations to review: flagged ones (findings pending) first, the most severe first,
        then the sampled ones not reviewed yet, newest first. `done`: the reviewed ones instead,
        most recently reviewed first."""
        self.check_reviewer(reviewer)
        limit = max(1, min(limit, MAX_QUEUE))
        self.mark_sample()
        with reading(self._sessions) as s:
            return queue_items(s, done=done, limit=limit, tz=self._tz)

    # ---- one conversation (review_view) ---------------------------------------------------------

    def open(self, viewer: StaffView, conversation_id: str) -> ReviewView:
        """The masked transcript, the scorecard and every finding with its evidence highlighted.

        QA reviewers and supervisors open any conversation; an agent opens one of their own (its
        scorecard or a finding names them) to see what was found, without reviewing it. Every
        opening is audited, as in the agent workspace."""
        reviewer = is_qa_reviewer(viewer.roles)
        with reading(self._sessions) as s:
            view = read_review(s, conversation_id, viewer_id=viewer.id, can_review=reviewer, tz=self._tz)
        with transaction(self._sessions) as s:
            self._record(s, viewer, "conversation.viewed", conversation_id, details={"purpose": "qa_review"})
        return view

    @property
    def second_opinion_on(self) -> bool:
        return self._assistant is not None and self._assistant.can("qa_second_opinion")

    def second_opinion(self, reviewer: StaffView, conversation_id: str, *, language: str) -> dict[str, Any]:
        """The optional LLM's opinion of the conversation beside the rule-based result
        (`helixdesk.quality.second_opinion`). Sending the masked transcript to the model is audited
        as a viewing for that purpose."""
        self.check_reviewer(reviewer)
        check_on(self._assistant)
        with reading(self._sessions) as s:
            view = read_review(s, conversation_id, viewer_id=reviewer.id, can_review=True, tz=self._tz)
        with transaction(self._sessions) as s:
            self._record(
                s, reviewer, "conversation.viewed", conversation_id, details={"purpose": "qa_second_opinion"}
            )
        return ask_second_opinion(self._assistant, view, language=language)

    # ---- verdicts and reviews -------------------------------------------------------------------

    def judge(self, reviewer: StaffView, finding_id: str, *, verdict: str, note: str = "") -> dict[str, Any]:
        """Confirm or reject one finding (again: the newer verdict replaces the older)."""
        self.check_reviewer(reviewer)
        with transaction(self._sessions) as s:
            finding = self._judge(s, reviewer, finding_id, verdict=verdict, note=note)
            names = staff_names(s, [finding.reviewer_id])
            return finding_dict(finding, names, self._tz)

    def review(
        self,
        reviewer: StaffView,
        conversation_id: str,
        *,
        score: float,
        note: str = "",
        verdicts: Sequence[VerdictInput] = (),
    ) -> dict[str, Any]:
        """The reviewer's own score of the conversation (0-100) and note, with any verdicts on its
        findings, in one step. Reviewing again replaces the score and note."""
        self.check_reviewer(reviewer)
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            raise ValidationFailedError("the score is a number from 0 to 100", code="invalid_score")
        if not 0 <= score <= 100:
            raise ValidationFailedError(f"the score is 0 to 100, not {score}", code="invalid_score")
        text = check_note(note)
        with transaction(self._sessions) as s:
            if s.get(Conversation, conversation_id) is None:
                raise NotFoundError(f"no conversation {conversation_id}", code="conversation_not_found")
            card = s.get(Scorecard, conversation_id, with_for_update=True)
            if card is None:
                raise ConflictError(
                    "the QA engine has not scored this conversation yet; review it once it has",
                    code="not_scored",
                )
            judged = []
            for v in verdicts:
                judged.append(
                    self._judge(
                        s, reviewer, v.finding_id, verdict=v.verdict, note=v.note, within=conversation_id
                    )
                )
            previous = card.review_score
            card.review_score = float(score)
            card.review_note = text
            card.reviewed_by = reviewer.id
            card.reviewed_at = self._clock()
            s.flush()
            self._record(
                s,
                reviewer,
                "quality.conversation_reviewed",
                conversation_id,
                details={"score": float(score), "previous_score": previous, "verdicts": len(judged)},
            )
            names = staff_names(s, [card.agent_id, card.reviewed_by])
            return {
                "scorecard": scorecard_dict(card, names, self._tz),
                "findings": [finding_dict(f, names, self._tz) for f in judged],
            }

    def _judge(
        self,
        s: Session,
        reviewer: StaffView,
        finding_id: str,
        *,
        verdict: str,
        note: str,
        within: str | None = None,
    ) -> Finding:
        if verdict not in JUDGED:
            raise ValidationFailedError(
                f"a verdict is 'confirmed' or 'rejected', not {verdict!r}", code="invalid_verdict"
            )
        text = check_note(note)
        finding = s.get(Finding, finding_id, with_for_update=True)
        if finding is None or (within is not None and finding.conversation_id != within):
            raise NotFoundError(f"no finding {finding_id} here", code="finding_not_found")
        previous = finding.verdict
        finding.verdict = verdict
        finding.review_note = text
        finding.reviewer_id = reviewer.id
        finding.reviewed_at = self._clock()
        s.flush()
        self._record(
            s,
            reviewer,
            f"quality.finding_{verdict}",
            finding.conversation_id,
            details={"finding": finding.id, "rule": finding.rule, "previous": previous},
            reason=text or "",
        )
        return finding

    def _record(
        self,
        s: Session,
        user: StaffView,
        action: str,
        conversation_id: str,
        *,
        details: dict[str, Any],
        reason: str = "",
    ) -> None:
        if self._audit is None:
            return
        ref = s.scalar(
            select(Customer.bank_ref)
            .join(Conversation, Conversation.customer_id == Customer.id)
            .where(Conversation.id == conversation_id)
        )
        record(
            self._audit,
            s,
            user,
            action,
            Target.conversation(conversation_id),
            details=details,
            reason=reason,
            customer_ref=ref,
        )

    # ---- agreement (review_agreement) -----------------------------------------------------------

    def agreement(self, *, days: int | None = None) -> AgreementReport:
        """Per rule: findings, how many were reviewed, confirmed, rejected, still pending, and the
        agreement rate (confirmed / reviewed), over the findings of the last `days` (all: None).
        The weakest rules (lowest agreement) come first; rules nobody reviewed yet come last."""
        check_days(days)
        since = self._clock() - timedelta(days=days) if days is not None else None
        with reading(self._sessions) as s:
            return agreement_report(s, days=days, since=since)
