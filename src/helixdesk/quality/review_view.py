"""One conversation as its review shows it: the masked transcript with each finding's evidence
highlighted in its message (`highlight`), the scorecard and every finding, as the console reads
them (`finding_dict`, `scorecard_dict`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.auth.errors import ForbiddenError
from helixdesk.auth.service import staff_names
from helixdesk.conversations.models import Conversation, Message
from helixdesk.core.errors import NotFoundError
from helixdesk.quality.models import Finding, Scorecard
from helixdesk.quality.review_common import iso_time


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
        "reviewed_at": iso_time(f.reviewed_at, tz),
        "created_at": iso_time(f.created_at, tz),
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
        "reviewed_at": iso_time(c.reviewed_at, tz),
        "review_note": c.review_note,
        "started_at": iso_time(c.started_at, tz),
        "updated_at": iso_time(c.updated_at, tz),
    }


def read_review(
    s: Session, conversation_id: str, *, viewer_id: str, can_review: bool, tz: tzinfo
) -> ReviewView:
    """The masked transcript, the scorecard and every finding with its evidence highlighted, times
    in `tz`. Without `can_review` (not a QA reviewer or supervisor) only the agent the scorecard or
    a finding names sees it."""
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
    if not can_review:
        theirs = (card is not None and card.agent_id == viewer_id) or any(
            f.agent_id == viewer_id for f in findings
        )
        if not theirs:
            raise ForbiddenError("only QA reviewers, supervisors and the agent themselves see this")
    messages = list(
        s.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq))
    )
    names = staff_names(
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
            "created_at": iso_time(m.created_at, tz),
            "segments": [asdict(x) for x in highlight(m.text, by_message.get(m.id, []))],
            "findings": [f.id for f in by_message.get(m.id, [])],
        }
        for m in messages
    ]
    return ReviewView(
        conversation={
            "id": conv.id,
            "state": conv.state,
            "channel": conv.channel,
            "language": conv.language,
            "created_at": iso_time(conv.created_at, tz),
            "closed_at": iso_time(conv.closed_at, tz),
        },
        scorecard=scorecard_dict(card, names, tz) if card is not None else None,
        findings=[finding_dict(f, names, tz) for f in findings],
        messages=transcript,
        can_review=can_review,
    )
