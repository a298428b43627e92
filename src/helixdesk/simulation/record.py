"""What the simulator reads from the server's database to judge a run: the bank's customers (to
cast persona customers and to know which numbers a reply may show), the intents the NLU stored for
the customer's messages and the business actions that ran. It writes nothing; everything the
simulated customers do goes through the public API."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.models import ActionAudit
from helixdesk.bank.models import BankCustomer
from helixdesk.conversations.models import Conversation, Customer, Message
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading
from helixdesk.memory.models import CustomerIssue, IssueStatus

# A customer who wrote this recently may still be inside a one-time code's resend wait.
RECENT = timedelta(minutes=2)


class Record:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def customer_refs(self) -> list[str]:
        """Every customer of the bank, in the order of their numbers."""
        with reading(self._sessions) as s:
            return list(s.scalars(select(BankCustomer.ref).order_by(BankCustomer.ref)))

    def busy_customers(self, now: datetime | None = None) -> set[str]:
        """Customers a simulated conversation would not start clean with: an issue still open from an
        earlier contact (the bot would raise it first), or a conversation started in the last two
        minutes (a one-time code may still be waiting to be resent)."""
        since = (now or utcnow()) - RECENT
        with reading(self._sessions) as s:
            open_issue = (
                select(Customer.bank_ref)
                .join(CustomerIssue, CustomerIssue.customer_id == Customer.id)
                .where(CustomerIssue.status == IssueStatus.OPEN.value)
            )
            recent = (
                select(Customer.bank_ref)
                .join(Conversation, Conversation.customer_id == Customer.id)
                .where(Conversation.created_at >= since)
            )
            return {ref for ref in s.scalars(open_issue.union(recent)) if ref}

    def intents(self, conversation_id: str) -> list[str]:
        """The intents the NLU gave the customer's messages, in order."""
        with reading(self._sessions) as s:
            metas = s.scalars(
                select(Message.meta)
                .where(Message.conversation_id == conversation_id, Message.sender == "customer")
                .order_by(Message.seq)
            )
            return [str(((m or {}).get("nlu") or {}).get("intent", {}).get("name") or "") for m in metas]

    def actions(self, conversation_id: str) -> set[str]:
        """The business actions that ran (successfully) for the conversation."""
        with reading(self._sessions) as s:
            return set(
                s.scalars(
                    select(ActionAudit.action).where(
                        ActionAudit.conversation_id == conversation_id,
                        ActionAudit.status.in_(("ok", "replayed")),
                    )
                )
            )
