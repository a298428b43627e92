"""Follow-up tasks: a person promises the customer something by a date, and owns it until done.

A follow-up is a customer issue (`helixdesk.memory`) with topic `follow_up`, an owner (a staff
user) and a due date. Issues hang off the customer, not the conversation, so when the customer
comes back on any channel the bot raises it first (`helixdesk.dialogue.flows.issues`): this is
being followed up, by whom and by when, in the customer's language. The owner sees it in "my
follow-ups" on their queue page and marks it done there (the issue is resolved).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.auth.models import StaffUser
from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import Conversation, Customer
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.common import Desk, active_handoff, record
from helixdesk.handoff.errors import NotYourConversationError
from helixdesk.handoff.workspace import AgentWorkspace
from helixdesk.memory.models import CustomerIssue, IssueStatus
from helixdesk.routing.queues import queues_for

TOPIC = "follow_up"
MAX_TITLE = 200
MAX_AHEAD = timedelta(days=366)


class FollowUps:
    def __init__(self, desk: Desk, *, workspace: AgentWorkspace, tz: tzinfo = UTC) -> None:
        self._desk = desk
        self._workspace = workspace
        self._tz = tz  # a due time given without a zone is the bank's local time

    def create(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        title: str,
        due_at: datetime,
        owner_username: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """A follow-up task on this conversation's customer, owned by `owner_username` (default: me)."""
        now = now or utcnow()
        title = " ".join(title.split())
        if not title or len(title) > MAX_TITLE:
            raise ValidationFailedError(
                f"a title has 1-{MAX_TITLE} characters", code="invalid_follow_up_title"
            )
        due = due_at if due_at.tzinfo is not None else due_at.replace(tzinfo=self._tz)
        if due <= now:
            raise ValidationFailedError("the due date has passed: choose a time to come", code="due_in_past")
        if due - now > MAX_AHEAD:
            raise ValidationFailedError("the due date is more than a year away", code="due_too_far")
        desk = self._desk
        with transaction(desk.sessions) as s:
            self._workspace.check_open(s, user, conversation_id)
            owner = self._owner(s, owner_username or user.username)
            conv = s.get(Conversation, conversation_id)
            assert conv is not None
            customer = s.get(Customer, conv.customer_id)
            if customer is None or customer.bank_ref is None:
                raise ValidationFailedError(
                    "the customer is anonymous: they could not be recognised when they come back",
                    code="follow_up_needs_customer",
                )
            handoff = active_handoff(s, conversation_id)
            issue = CustomerIssue(
                customer_id=conv.customer_id,
                conversation_id=conv.id,
                topic=TOPIC,
                intent=(handoff.intent if handoff is not None else None) or "human_agent",
                facts={
                    # The person's words, masked like every note.
                    "title": desk.writer.privacy.mask(title).text,
                    "owner_name": owner.display_name,
                    "owner": owner.username,
                    "due_at": due.astimezone(UTC).isoformat(),
                    "created_by": user.display_name,
                },
                status=IssueStatus.OPEN.value,
                owner_id=owner.id,
                due_at=due,
                opened_at=now,
                updated_at=now,
            )
            s.add(issue)
            s.flush()
            record(
                desk,
                s,
                user,
                "follow_up.created",
                conv.id,
                details={"issue_id": issue.id, "owner": owner.username, "due_at": due.isoformat()},
            )
            return _data(issue, customer.bank_ref, conv.channel, now, self._tz)

    def mine(self, user: StaffView, *, now: datetime | None = None) -> list[dict[str, Any]]:
        """My open follow-ups, the soonest due first."""
        now = now or utcnow()
        with reading(self._desk.sessions) as s:
            rows = s.execute(
                select(CustomerIssue, Customer.bank_ref, Conversation.channel)
                .join(Customer, Customer.id == CustomerIssue.customer_id)
                .outerjoin(Conversation, Conversation.id == CustomerIssue.conversation_id)
                .where(
                    CustomerIssue.topic == TOPIC,
                    CustomerIssue.owner_id == user.id,
                    CustomerIssue.status == IssueStatus.OPEN.value,
                )
                .order_by(CustomerIssue.due_at, CustomerIssue.opened_at)
                .limit(200)
            ).all()
            return [_data(issue, ref, channel, now, self._tz) for issue, ref, channel in rows]

    def for_conversation(self, user: StaffView, conversation_id: str) -> list[dict[str, Any]]:
        now = utcnow()
        with reading(self._desk.sessions) as s:
            self._workspace.check_open(s, user, conversation_id)
            rows = s.execute(
                select(CustomerIssue, Customer.bank_ref, Conversation.channel)
                .join(Customer, Customer.id == CustomerIssue.customer_id)
                .join(Conversation, Conversation.id == CustomerIssue.conversation_id)
                .where(CustomerIssue.topic == TOPIC, CustomerIssue.conversation_id == conversation_id)
                .order_by(CustomerIssue.opened_at)
            ).all()
            return [_data(issue, ref, channel, now, self._tz) for issue, ref, channel in rows]

    def done(self, user: StaffView, issue_id: str, *, now: datetime | None = None) -> dict[str, Any]:
        """The owner (or a supervisor) marks the follow-up done: the customer's issue is resolved."""
        now = now or utcnow()
        desk = self._desk
        with transaction(desk.sessions) as s:
            issue = s.scalar(select(CustomerIssue).where(CustomerIssue.id == issue_id).with_for_update())
            if issue is None or issue.topic != TOPIC:
                raise NotFoundError(f"no follow-up {issue_id}", code="follow_up_not_found")
            if issue.owner_id != user.id and not user.is_supervisor:
                raise NotYourConversationError("this follow-up belongs to someone else")
            if issue.status == IssueStatus.OPEN.value:
                issue.status = IssueStatus.RESOLVED.value
                issue.closed_at = now
                issue.updated_at = now
                if issue.conversation_id is not None:
                    record(
                        desk, s, user, "follow_up.done", issue.conversation_id, details={"issue_id": issue.id}
                    )
            ref = s.scalar(select(Customer.bank_ref).where(Customer.id == issue.customer_id))
            conv = s.get(Conversation, issue.conversation_id) if issue.conversation_id else None
            return _data(issue, ref, conv.channel if conv else None, now, self._tz)

    def _owner(self, s: Session, username: str) -> StaffUser:
        owner = s.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
        if owner is None or owner.disabled:
            raise NotFoundError(f"no active colleague named {username!r}", code="user_not_found")
        if not queues_for(owner.roles or ()):
            raise ValidationFailedError(
                f"{owner.display_name} does not work with customers and cannot own a follow-up",
                code="invalid_owner",
            )
        return owner


def _data(
    issue: CustomerIssue, customer_ref: str | None, channel: str | None, now: datetime, tz: tzinfo
) -> dict[str, Any]:
    """A follow-up as the console shows it; times in the bank's local time."""
    facts = dict(issue.facts or {})
    return {
        "id": issue.id,
        "conversation_id": issue.conversation_id,
        "customer_ref": customer_ref,
        "channel": channel,
        "title": facts.get("title", ""),
        "owner": facts.get("owner"),
        "owner_name": facts.get("owner_name"),
        "created_by": facts.get("created_by"),
        "due_at": issue.due_at.astimezone(tz).isoformat() if issue.due_at else None,
        "overdue": issue.due_at is not None and issue.due_at < now and issue.status == IssueStatus.OPEN.value,
        "status": issue.status,
        # How many times the bot told the returning customer about it.
        "raised": issue.raised_count,
        "opened_at": issue.opened_at.astimezone(tz).isoformat(),
    }
