"""QA data written straight into the tables, as the QA engine's consumer writes it: conversations
with their (masked) messages, scorecards and findings, for the review and coaching tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from helixdesk.auth.models import StaffUser
from helixdesk.auth.service import StaffView, staff_view
from helixdesk.conversations.models import Conversation, Customer, Message
from helixdesk.core.clock import utcnow
from helixdesk.quality.models import Finding, Scorecard


def add_staff(s: Session, username: str, roles: list[str], name: str | None = None) -> StaffView:
    """A staff member who never signs in (no usable password)."""
    user = StaffUser(username=username, display_name=name or username, password_hash="!", roles=roles)
    s.add(user)
    s.flush()
    return staff_view(user)


def add_people(s: Session) -> dict[str, StaffView]:
    """A QA reviewer, a supervisor, two agents and a senior agent."""
    return {
        "qa": add_staff(s, "qa.a", ["qa_reviewer"], "QA A"),
        "sup": add_staff(s, "sup.a", ["supervisor"], "Sup A"),
        "li": add_staff(s, "agent.li", ["agent"], "李娜"),
        "chen": add_staff(s, "agent.chen", ["agent"], "陈明"),
        "wang": add_staff(s, "senior.wang", ["senior"], "王芳"),
    }


def add_conversation(
    s: Session,
    lines: list[tuple[str, str]],
    *,
    state: str = "closed",
    language: str = "zh-Hans",
    at: datetime | None = None,
    bank_ref: str | None = None,
) -> tuple[Conversation, list[Message]]:
    """A conversation and its messages: `lines` are (sender, text) pairs."""
    at = at or utcnow()
    customer = Customer(bank_ref=bank_ref, language=language)
    s.add(customer)
    s.flush()
    conv = Conversation(
        customer_id=customer.id,
        channel="web",
        state=state,
        language=language,
        last_seq=len(lines),
        created_at=at,
        updated_at=at,
        closed_at=at + timedelta(minutes=10) if state == "closed" else None,
    )
    s.add(conv)
    s.flush()
    messages = []
    for seq, (sender, text) in enumerate(lines, start=1):
        m = Message(
            conversation_id=conv.id,
            seq=seq,
            sender=sender,
            text=text,
            meta={"author": "agent"} if sender == "agent" else {},
            created_at=at + timedelta(seconds=seq * 20),
        )
        s.add(m)
        messages.append(m)
    s.flush()
    return conv, messages


def add_scorecard(s: Session, conversation_id: str, **fields: Any) -> Scorecard:
    fields.setdefault("final", True)
    fields.setdefault("updated_at", utcnow())
    card = Scorecard(conversation_id=conversation_id, **fields)
    s.add(card)
    s.flush()
    return card


def add_finding(
    s: Session,
    conversation_id: str,
    rule: str,
    *,
    message: Message | None = None,
    evidence: str = "",
    category: str = "compliance",
    severity: str = "high",
    **fields: Any,
) -> Finding:
    """A finding with its evidence span located in `message` (when the evidence is in it)."""
    start = message.text.find(evidence) if message is not None and evidence else -1
    finding = Finding(
        conversation_id=conversation_id,
        message_id=message.id if message is not None else "",
        message_seq=message.seq if message is not None else None,
        rule=rule,
        category=category,
        severity=severity,
        sender=message.sender if message is not None else None,
        evidence=evidence,
        span_start=start if start >= 0 else None,
        span_end=start + len(evidence) if start >= 0 else None,
        reason=f"{rule} in the agent's words",
        **fields,
    )
    s.add(finding)
    s.flush()
    return finding
