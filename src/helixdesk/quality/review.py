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
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import AuditLog, Target
from helixdesk.audit.context import staff_actor
from helixdesk.auth.errors import ForbiddenError
from helixdesk.auth.models import StaffUser
from helixdesk.auth.roles import is_qa_reviewer
from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import Conversation, Customer, Message
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConflictError, NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.privacy.masking import mask_text
from helixdesk.quality.models import Finding, Scorecard, Verdict

SAMPLE_BUCKETS = 10_000
MAX_NOTE = 2000
MAX_QUEUE = 200
# The most days an agreement or quality period may span.
MAX_PERIOD_DAYS = 3650
# Highest first; a severity the engine adds later sorts after these.
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
JUDGED = (Verdict.CONFIRMED.value, Verdict.REJECTED.value)


def in_sample(conversation_id: str, percent: float) -> bool:
    """Whether a conversation is in the random review sample: the same answer every time."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"qa-sample:{conversation_id}".encode()).digest()
    bucket = int.from_bytes(digest[:4], "big") % SAMPLE_BUCKETS
    return bucket < round(min(percent, 100.0) * SAMPLE_BUCKETS / 100)


def check_note(note: str | None, *, what: str = "note") -> str | None:
    """A reviewer's or agent's note: trimmed, at most `MAX_NOTE` characters, personal data masked."""
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationFailedError(f"a {what} is at most {MAX_NOTE} characters", code="note_too_long")
    return mask_text(text).text or None


def check_days(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= MAX_PERIOD_DAYS:
        raise ValidationFailedError(
            f"the period is 1 to {MAX_PERIOD_DAYS} days, not {days}", code="invalid_period"
        )
    return days


def record(
    audit: AuditLog | None,
    s: Session,
    user: StaffView,
    action: str,
    target: Target,
    *,
    details: dict[str, Any],
    reason: str = "",
    customer_ref: str | None = None,
) -> None:
    """An audit entry for what a person did (inside the caller's transaction; none without a log)."""
    if audit is not None:
        audit.record(
            s,
            actor=staff_actor(user.id),
            action=action,
            target=target,
            reason=reason,
            details=details,
            customer_ref=customer_ref,
        )


def _iso(at: datetime | None, tz: tzinfo = UTC) -> str | None:
    """A time as ISO 8601 in `tz` (the bank's time zone where people read it)."""
    return at.astimezone(tz).isoformat() if at is not None else None


def _names(s: Session, ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = s.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(wanted)))
    return {i: n for i, n in rows}


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One conversation waiting for review: `flagged` (findings pending) and/or `sampled`."""

    conversation_id: str
    flagged: bool
    sampled: bool
    pending: int
    severity: str | None
    findings: int
    score: float | None
    agent_id: str | None
    agent_name: str | None
    team: str | None
    channel: str | None
    language: str | None
    final: bool
    review_score: float | None
    reviewed_at: str | None
    updated_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a message's text; `finding` names the finding whose evidence it is."""

    text: str
    finding: str | None = None
    rule: str | None = None


@dataclass
class ReviewView:
    conversation: dict[str, Any]
    scorecard: dict[str, Any] | None
    findings: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    can_review: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "scorecard": self.scorecard,
            "findings": self.findings,
            "messages": self.messages,
            "can_review": self.can_review,
        }


@dataclass(frozen=True, slots=True)
class RuleAgreement:
    rule: str
    category: str
    findings: int
    reviewed: int
    confirmed: int
    rejected: int
    pending: int

    @property
    def rate(self) -> float | None:
        """Confirmed / reviewed: how often the reviewers agreed with the engine (None: none reviewed)."""
        return self.confirmed / self.reviewed if self.reviewed else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "agreement": self.rate}


@dataclass(frozen=True, slots=True)
class AgreementReport:
    days: int | None
    rules: list[RuleAgreement] = field(default_factory=list)

    @property
    def total(self) -> RuleAgreement:
        return RuleAgreement(
            rule="*",
            category="*",
            findings=sum(r.findings for r in self.rules),
            reviewed=sum(r.reviewed for r in self.rules),
            confirmed=sum(r.confirmed for r in self.rules),
            rejected=sum(r.rejected for r in self.rules),
            pending=sum(r.pending for r in self.rules),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "rules": [r.to_dict() for r in self.rules],
            "total": self.total.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class VerdictInput:
    finding_id: str
    verdict: str
    note: str = ""


def highlight(text: str, findings: Sequence[Finding]) -> list[Segment]:
    """`text` cut into plain pieces and the evidence of each finding in it.

    A finding's span is used when it points at its evidence; otherwise the evidence is looked up
    in the text. Spans that overlap one already highlighted are left plain (the finding is still
    listed beside the transcript)."""
    spans: list[tuple[int, int, Finding]] = []
    for f in findings:
        start, end = f.span_start, f.span_end
        ok = start is not None and end is not None and 0 <= start < end <= len(text)
        if ok and f.evidence and text[start:end] != f.evidence:
            ok = False
        if not ok:
            at = text.find(f.evidence) if f.evidence else -1
            if at < 0:
                continue
            start, end = at, at + len(f.evidence)
        assert start is not None and end is not None
        spans.append((start, end, f))
    out: list[Segment] = []
    pos = 0
    for start, end, f in sorted(spans, key=lambda x: (x[0], -x[1])):
        if start < pos:
            continue
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], f.id, f.rule))
        pos = end
    if pos < len(text) or not out:
        out.append(Segment(text[pos:]))
    return out


def finding_dict(f: Finding, names: dict[str, str] | None = None, tz: tzinfo = UTC) -> dict[str, Any]:
    names = names or {}
    return {
        "id": f.id,
        "conversation_id": f.conversation_id,
        "message_id": f.message_id or None,
        "message_seq": f.message_seq,
        "rule": f.rule,
        "category": f.category,
        "severity": f.severity,
        "sender": f.sender,
        "agent_id": f.agent_id,
        "evidence": f.evidence,
        "span": [f.span_start, f.span_end] if f.span_start is not None else None,
        "reason": f.reason,
        "override_reason": f.override_reason,
        "verdict": f.verdict,
        "reviewer_id": f.reviewer_id,
        "reviewer": names.get(f.reviewer_id or ""),
        "review_note": f.review_note,
        "reviewed_at": _iso(f.reviewed_at, tz),
        "created_at": _iso(f.created_at, tz),
    }


def scorecard_dict(c: Scorecard, names: dict[str, str] | None = None, tz: tzinfo = UTC) -> dict[str, Any]:
    names = names or {}
    return {
        "conversation_id": c.conversation_id,
        "agent_id": c.agent_id,
        "agent": names.get(c.agent_id or ""),
        "team": c.team,
        "channel": c.channel,
        "language": c.language,
        "score": c.score,
        "breakdown": dict(c.breakdown or {}),
        "findings": c.findings,
        "compliance_findings": c.compliance_findings,
        "conflict": c.conflict,
        "fcr": c.fcr,
        "csat": c.csat,
        "handled_seconds": c.handled_seconds,
        "messages": c.messages,
        "final": c.final,
        "sampled": c.sampled,
        "review_score": c.review_score,
        "reviewed_by": c.reviewed_by,
        "reviewer": names.get(c.reviewed_by or ""),
        "reviewed_at": _iso(c.reviewed_at, tz),
        "review_note": c.review_note,
        "started_at": _iso(c.started_at, tz),
        "updated_at": _iso(c.updated_at, tz),
    }


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
    ) -> None:
        if not 0 <= sample_percent <= 100 or math.isnan(sample_percent):
            raise ValueError("sample_percent is 0 to 100")
        self._sessions = sessions
        self._audit = audit
        self.sample_percent = sample_percent
        self._window = timedelta(days=sample_window_days)
        self._tz = tz
        self._clock = clock

    # ---- who may do what ------------------------------------------------------------------------

    @staticmethod
    def check_reviewer(user: StaffView) -> None:
        if not is_qa_reviewer(user.roles):
            raise ForbiddenError("only QA reviewers and supervisors review conversations")

    # ---- the queue ------------------------------------------------------------------------------

    def mark_sample(self) -> int:
        """Mark the closed conversations of the last `sample_window_days` that fall in the sample
        (`Scorecard.sampled`); returns how many were newly marked. Idempotent."""
        since = self._clock() - self._window
        with transaction(self._sessions) as s:
            ids = s.scalars(
                select(Scorecard.conversation_id).where(
                    Scorecard.final.is_(True),
                    Scorecard.sampled.is_(False),
                    Scorecard.reviewed_at.is_(None),
                    Scorecard.updated_at >= since,
                )
            ).all()
            chosen = [i for i in ids if in_sample(i, self.sample_percent)]
            for start in range(0, len(chosen), 500):
                s.execute(
                    update(Scorecard)
                    .where(Scorecard.conversation_id.in_(chosen[start : start + 500]))
                    .values(sampled=True)
                )
        return len(chosen)

    def queue(self, reviewer: StaffView, *, done: bool = False, limit: int = MAX_QUEUE) -> list[QueueItem]:
        """Conversations to review: flagged ones (findings pending) first, the most severe first,
        then the sampled ones not reviewed yet, newest first. `done`: the reviewed ones instead,
        most recently reviewed first."""
        self.check_reviewer(reviewer)
        limit = max(1, min(limit, MAX_QUEUE))
        self.mark_sample()
        with reading(self._sessions) as s:
            pending: dict[str, tuple[int, int, datetime | None]] = {}
            if not done:
                rows = s.execute(
                    select(
                        Finding.conversation_id,
                        Finding.severity,
                        func.count(),
                        func.max(Finding.created_at),
                    )
                    .where(Finding.verdict == Verdict.PENDING.value)
                    .group_by(Finding.conversation_id, Finding.severity)
                ).all()
                for cid, severity, count, last in rows:
                    n, rank, newest = pending.get(cid, (0, 99, None))
                    pending[cid] = (
                        n + count,
                        min(rank, SEVERITY_RANK.get(severity, 9)),
                        max(newest, last) if newest and last else newest or last,
                    )
                sampled = s.scalars(
                    select(Scorecard)
                    .where(Scorecard.sampled.is_(True), Scorecard.reviewed_at.is_(None))
                    .order_by(Scorecard.updated_at.desc())
                    .limit(MAX_QUEUE * 5)
                ).all()
                cards = {c.conversation_id: c for c in sampled}
                missing = [cid for cid in pending if cid not in cards]
                for start in range(0, len(missing), 500):
                    chunk = missing[start : start + 500]
                    for c in s.scalars(select(Scorecard).where(Scorecard.conversation_id.in_(chunk))):
                        cards[c.conversation_id] = c
                ids = set(pending) | set(cards)
            else:
                reviewed = s.scalars(
                    select(Scorecard)
                    .where(Scorecard.reviewed_at.is_not(None))
                    .order_by(Scorecard.reviewed_at.desc())
                    .limit(limit)
                ).all()
                cards = {c.conversation_id: c for c in reviewed}
                ids = set(cards)
            convs: dict[str, Conversation] = {}
            id_list = sorted(ids)
            for start in range(0, len(id_list), 500):
                chunk = id_list[start : start + 500]
                for conv in s.scalars(select(Conversation).where(Conversation.id.in_(chunk))):
                    convs[conv.id] = conv
            totals: dict[str, int] = {}
            for start in range(0, len(id_list), 500):
                chunk = id_list[start : start + 500]
                for cid, count in s.execute(
                    select(Finding.conversation_id, func.count())
                    .where(Finding.conversation_id.in_(chunk))
                    .group_by(Finding.conversation_id)
                ):
                    totals[cid] = count
            names = _names(s, (c.agent_id for c in cards.values()))
        items: list[tuple[QueueItem, datetime | None]] = []
        for cid in ids:
            card = cards.get(cid)
            known = convs.get(cid)
            count, rank, newest = pending.get(cid, (0, 99, None))
            updated = card.updated_at if card is not None else newest
            item = QueueItem(
                conversation_id=cid,
                flagged=count > 0,
                sampled=bool(card and card.sampled),
                pending=count,
                severity=next((k for k, v in SEVERITY_RANK.items() if v == rank), None) if count else None,
                findings=totals.get(cid, 0),
                score=card.score if card else None,
                agent_id=card.agent_id if card else None,
                agent_name=names.get(card.agent_id or "") if card else None,
                team=card.team if card else None,
                channel=card.channel if card else known.channel if known else None,
                language=card.language if card else known.language if known else None,
                final=bool(card and card.final),
                review_score=card.review_score if card else None,
                reviewed_at=_iso(card.reviewed_at, self._tz) if card else None,
                updated_at=_iso(updated, self._tz),
            )
            items.append((item, card.reviewed_at if done and card else updated))
        # Newest first; the queue puts flagged before sampled, then the most severe, the most findings.
        oldest = datetime.min.replace(tzinfo=UTC)
        items.sort(key=lambda x: x[1] or oldest, reverse=True)
        if not done:
            items.sort(
                key=lambda x: (not x[0].flagged, SEVERITY_RANK.get(x[0].severity or "", 9), -x[0].pending)
            )
        return [item for item, _ in items[:limit]]

    # ---- one conversation -----------------------------------------------------------------------

    def open(self, viewer: StaffView, conversation_id: str) -> ReviewView:
        """The masked transcript, the scorecard and every finding with its evidence highlighted.

        QA reviewers and supervisors open any conversation; an agent opens one of their own (its
        scorecard or a finding names them) to see what was found, without reviewing it. Every
        opening is audited, as in the agent workspace."""
        reviewer = is_qa_reviewer(viewer.roles)
        with reading(self._sessions) as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise NotFoundError(f"no conversation {conversation_id}", code="conversation_not_found")
            card = s.get(Scorecard, conversation_id)
            findings = list(
                s.scalars(
                    select(Finding)
                    .where(Finding.conversation_id == conversation_id)
                    .order_by(Finding.message_seq, Finding.created_at, Finding.id)
                )
            )
            if not reviewer:
                theirs = (card is not None and card.agent_id == viewer.id) or any(
                    f.agent_id == viewer.id for f in findings
                )
                if not theirs:
                    raise ForbiddenError("only QA reviewers, supervisors and the agent themselves see this")
            messages = list(
                s.scalars(
                    select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
                )
            )
            names = _names(
                s,
                [
                    *(f.reviewer_id for f in findings),
                    card.agent_id if card else None,
                    card.reviewed_by if card else None,
                ],
            )
            by_message: dict[str, list[Finding]] = {}
            seq_of = {m.seq: m.id for m in messages}
            for f in findings:
                key = f.message_id or seq_of.get(f.message_seq or -1, "")
                if key:
                    by_message.setdefault(key, []).append(f)
            transcript = [
                {
                    "id": m.id,
                    "seq": m.seq,
                    "sender": m.sender,
                    "author": (m.meta or {}).get("author"),
                    "text": m.text,
                    "created_at": _iso(m.created_at, self._tz),
                    "segments": [asdict(x) for x in highlight(m.text, by_message.get(m.id, []))],
                    "findings": [f.id for f in by_message.get(m.id, [])],
                }
                for m in messages
            ]
            view = ReviewView(
                conversation={
                    "id": conv.id,
                    "state": conv.state,
                    "channel": conv.channel,
                    "language": conv.language,
                    "created_at": _iso(conv.created_at, self._tz),
                    "closed_at": _iso(conv.closed_at, self._tz),
                },
                scorecard=scorecard_dict(card, names, self._tz) if card is not None else None,
                findings=[finding_dict(f, names, self._tz) for f in findings],
                messages=transcript,
                can_review=reviewer,
            )
        with transaction(self._sessions) as s:
            self._record(s, viewer, "conversation.viewed", conversation_id, details={"purpose": "qa_review"})
        return view

    # ---- verdicts and reviews -------------------------------------------------------------------

    def judge(self, reviewer: StaffView, finding_id: str, *, verdict: str, note: str = "") -> dict[str, Any]:
        """Confirm or reject one finding (again: the newer verdict replaces the older)."""
        self.check_reviewer(reviewer)
        with transaction(self._sessions) as s:
            finding = self._judge(s, reviewer, finding_id, verdict=verdict, note=note)
            names = _names(s, [finding.reviewer_id])
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
            names = _names(s, [card.agent_id, card.reviewed_by])
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

    # ---- agreement ------------------------------------------------------------------------------

    def agreement(self, *, days: int | None = None) -> AgreementReport:
        """Per rule: findings, how many were reviewed, confirmed, rejected, still pending, and the
        agreement rate (confirmed / reviewed), over the findings of the last `days` (all: None).
        The weakest rules (lowest agreement) come first; rules nobody reviewed yet come last."""
        check_days(days)
        query = select(Finding.rule, Finding.category, Finding.verdict, func.count()).group_by(
            Finding.rule, Finding.category, Finding.verdict
        )
        if days is not None:
            query = query.where(Finding.created_at >= self._clock() - timedelta(days=days))
        counts: dict[str, dict[str, int]] = {}
        category: dict[str, str] = {}
        with reading(self._sessions) as s:
            for rule, cat, verdict, n in s.execute(query):
                counts.setdefault(rule, {})
                counts[rule][verdict] = counts[rule].get(verdict, 0) + n
                category.setdefault(rule, cat)
        rules = []
        for rule, by in counts.items():
            confirmed = by.get(Verdict.CONFIRMED.value, 0)
            rejected = by.get(Verdict.REJECTED.value, 0)
            rules.append(
                RuleAgreement(
                    rule=rule,
                    category=category[rule],
                    findings=sum(by.values()),
                    reviewed=confirmed + rejected,
                    confirmed=confirmed,
                    rejected=rejected,
                    pending=by.get(Verdict.PENDING.value, 0),
                )
            )
        rules.sort(key=lambda r: (r.rate is None, r.rate if r.rate is not None else 0.0, r.rule))
        return AgreementReport(days=days, rules=rules)
