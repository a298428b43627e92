"""Reading and changing a customer's unresolved issues (inside the caller's transaction).

An issue is opened when a turn leaves the customer's problem open (a transfer still pending, a
dispute under review, a conversation handed to a person), resolved when a later check or turn
settles it, and abandoned when nobody touched it for the configured number of days.
The same customer on any channel (web, app, API) shares these, because issues hang off the
customer, not the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.memory.models import CustomerIssue, IssueStatus
from helixdesk.privacy.masking import scrub


@dataclass(frozen=True, slots=True)
class IssueView:
    id: str
    topic: str
    intent: str
    action: str | None
    ref: str | None
    facts: dict[str, Any]
    status: str
    opened_at: datetime
    conversation_id: str | None


@dataclass(frozen=True, slots=True)
class IssueOp:
    """A change the dialogue asks for; the conversation service applies it with the replies."""

    kind: Literal["open", "resolve", "raised"]
    topic: str = ""
    intent: str = ""
    action: str | None = None
    ref: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    issue_id: str | None = None


def _view(row: CustomerIssue) -> IssueView:
    return IssueView(
        id=row.id,
        topic=row.topic,
        intent=row.intent,
        action=row.action,
        ref=row.ref,
        facts=dict(row.facts or {}),
        status=row.status,
        opened_at=row.opened_at,
        conversation_id=row.conversation_id,
    )


def open_issues(
    s: Session,
    customer_id: str,
    *,
    now: datetime,
    abandon_after_days: int,
    exclude_conversation: str | None = None,
) -> list[IssueView]:
    """Open issues of this customer, newest first; stale ones are marked abandoned on the way."""
    rows = s.scalars(
        select(CustomerIssue)
        .where(CustomerIssue.customer_id == customer_id, CustomerIssue.status == IssueStatus.OPEN.value)
        .order_by(CustomerIssue.opened_at.desc())
    ).all()
    cutoff = now - timedelta(days=abandon_after_days)
    out: list[IssueView] = []
    for row in rows:
        # A follow-up task a person owns is not abandoned before its due date has gone stale too.
        if row.updated_at < cutoff and (row.due_at is None or row.due_at < cutoff):
            row.status = IssueStatus.ABANDONED.value
            row.closed_at = now
            row.updated_at = now
            continue
        if exclude_conversation is not None and row.conversation_id == exclude_conversation:
            continue
        out.append(_view(row))
    return out


def list_issues(s: Session, customer_id: str) -> list[IssueView]:
    rows = s.scalars(
        select(CustomerIssue)
        .where(CustomerIssue.customer_id == customer_id)
        .order_by(CustomerIssue.opened_at)
    )
    return [_view(r) for r in rows]


def apply_issue_ops(
    s: Session, ops: list[IssueOp], *, customer_id: str, conversation_id: str, now: datetime
) -> None:
    """Apply the turn's issue changes; facts are stored masked (`helixdesk.privacy.scrub`)."""
    for op in ops:
        if op.kind == "open":
            existing = s.scalar(
                select(CustomerIssue).where(
                    CustomerIssue.customer_id == customer_id,
                    CustomerIssue.status == IssueStatus.OPEN.value,
                    CustomerIssue.topic == op.topic,
                    CustomerIssue.ref == op.ref if op.ref is not None else CustomerIssue.ref.is_(None),
                )
            )
            if existing is not None:
                existing.facts = scrub(op.facts)
                existing.updated_at = now
                continue
            s.add(
                CustomerIssue(
                    customer_id=customer_id,
                    conversation_id=conversation_id,
                    topic=op.topic,
                    intent=op.intent,
                    action=op.action,
                    ref=op.ref,
                    facts=scrub(op.facts),
                    opened_at=now,
                    updated_at=now,
                )
            )
            s.flush()
            continue
        row = _find(s, op, customer_id)
        if row is None:
            continue
        if op.kind == "resolve":
            row.status = IssueStatus.RESOLVED.value
            row.closed_at = now
        else:
            row.raised_count += 1
        row.updated_at = now


def _find(s: Session, op: IssueOp, customer_id: str) -> CustomerIssue | None:
    if op.issue_id is not None:
        row = s.get(CustomerIssue, op.issue_id)
        return row if row is not None and row.customer_id == customer_id else None
    return s.scalar(
        select(CustomerIssue).where(
            CustomerIssue.customer_id == customer_id,
            CustomerIssue.status == IssueStatus.OPEN.value,
            CustomerIssue.topic == op.topic,
            CustomerIssue.ref == op.ref,
        )
    )
