"""`RetentionJob`: delete or anonymise what has outlived its retention period, in batches.

Every step is idempotent (a second run finds nothing left to do) and works in batches of
`batch_size` rows, each its own transaction, so a long first run never holds locks for long and
an interrupted run simply continues next time. A dry run only counts. Each run, dry or not, is
recorded in the audit log (`retention.run`, with the counts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from helixdesk.actions.models import ActionAudit, ActionIdempotency
from helixdesk.audit import Actor, AuditLog, Target, prune_before
from helixdesk.bus.outbox import EventRecord
from helixdesk.channels.social.models import SocialAuthor, SocialDelivery
from helixdesk.channels.wechat.models import WeChatConversation, WeChatDelivery, WeChatUser
from helixdesk.conversations.models import (
    Conversation,
    ConversationState,
    CsatRating,
    Customer,
    Message,
    MessageAudio,
    MessageImage,
)
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading, transaction
from helixdesk.dialogue.state import DialogueStateRow
from helixdesk.handoff.models import AgentNote, Handoff, KnowledgeDraft
from helixdesk.identity.models import IdentityFailure, IdentityLockout, VerificationChallenge
from helixdesk.memory.models import CustomerIssue
from helixdesk.notifications.models import OutboxMessage
from helixdesk.retention.policy import DATA_CLASSES, RetentionPolicy
from helixdesk.retention.scrub import ANONYMOUS_CUSTOMER_ID, reduce_message_meta, reduce_nlu, reduce_packet


@dataclass(frozen=True, slots=True)
class ClassResult:
    data_class: str
    days: int
    cutoff: datetime | None  # None: kept for ever
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_class": self.data_class,
            "days": self.days,
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(),
            "counts": self.counts,
        }


@dataclass(frozen=True, slots=True)
class RetentionReport:
    dry_run: bool
    ran_at: datetime
    results: tuple[ClassResult, ...]
    audit_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ran_at": self.ran_at.isoformat(),
            "results": [r.to_dict() for r in self.results],
            "audit_seq": self.audit_seq,
        }


class RetentionJob:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        audit: AuditLog,
        policy: RetentionPolicy,
        batch_size: int = 500,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self._policy = policy
        self._batch = max(1, batch_size)
        self._clock = clock

    def run(self, *, dry_run: bool = False, actor: Actor | None = None) -> RetentionReport:
        actor = actor or Actor.system("retention")
        now = self._clock()
        steps: dict[str, Callable[[datetime, datetime, bool], dict[str, int]]] = {
            "nlu": self._nlu,
            "conversations": self._conversations,
            "dialogue_state": self._dialogue_state,
            "verification": self._verification,
            "outbox": self._outbox,
            "action_records": self._action_records,
        }
        results = []
        for name in DATA_CLASSES:
            days = self._policy.days[name]
            if days <= 0:
                results.append(ClassResult(name, 0, None))
                continue
            cutoff = now - timedelta(days=days)
            if name == "audit":
                pruned = prune_before(self._sessions, self._audit, cutoff, actor=actor, dry_run=dry_run)
                counts = {"audit_entries": pruned.rows}
            else:
                counts = steps[name](cutoff, now, dry_run)
            results.append(ClassResult(name, days, cutoff, counts))
        with transaction(self._sessions) as s:
            logged = self._audit.record(
                s,
                actor=actor,
                action="retention.run",
                target=Target("retention", "all"),
                reason="dry run" if dry_run else "retention periods",
                details={"dry_run": dry_run, "counts": {r.data_class: r.counts for r in results}},
            )
        return RetentionReport(dry_run, now, tuple(results), logged.seq)

    # ---- data classes ---------------------------------------------------------------------------

    def _nlu(self, cutoff: datetime, now: datetime, dry_run: bool) -> dict[str, int]:
        due = and_(
            Conversation.updated_at < cutoff,
            Conversation.anonymised_at.is_(None),
            or_(Conversation.nlu_pruned_at.is_(None), Conversation.nlu_pruned_at < Conversation.updated_at),
        )
        if dry_run:
            return {"conversations": self._count(Conversation, due)}
        conversations = messages = 0
        while True:
            with transaction(self._sessions) as s:
                ids = s.scalars(select(Conversation.id).where(due).limit(self._batch)).all()
                if not ids:
                    break
                for m in s.scalars(select(Message).where(Message.conversation_id.in_(ids))):
                    nlu = (m.meta or {}).get("nlu")
                    if isinstance(nlu, dict) and not nlu.get("reduced"):
                        m.meta = {**m.meta, "nlu": reduce_nlu(nlu)}
                        messages += 1
                # The customer's rating: its comment's NLU record, like a message's.
                for r in s.scalars(select(CsatRating).where(CsatRating.conversation_id.in_(ids))):
                    if r.nlu and not r.nlu.get("reduced"):
                        r.nlu = reduce_nlu(r.nlu) or {}
                s.execute(update(Conversation).where(Conversation.id.in_(ids)).values(nlu_pruned_at=now))
                conversations += len(ids)
        return {"conversations": conversations, "messages": messages}

    def _conversations(self, cutoff: datetime, now: datetime, dry_run: bool) -> dict[str, int]:
        due = and_(Conversation.updated_at < cutoff, Conversation.anonymised_at.is_(None))
        orphan = and_(
            Customer.created_at < cutoff,
            Customer.id != ANONYMOUS_CUSTOMER_ID,
            ~exists().where(Conversation.customer_id == Customer.id),
            ~exists().where(CustomerIssue.customer_id == Customer.id),
        )
        if dry_run:
            return {"conversations": self._count(Conversation, due)}
        counts = {"conversations": 0, "messages": 0, "issues": 0, "customers": 0}
        while True:
            with transaction(self._sessions) as s:
                ids = s.scalars(select(Conversation.id).where(due).limit(self._batch)).all()
                if not ids:
                    break
                self._ensure_anonymous_customer(s)
                for m in s.scalars(select(Message).where(Message.conversation_id.in_(ids))):
                    m.text, m.client_message_id, m.meta = "", None, reduce_message_meta(m.meta)
                    counts["messages"] += 1
                # The originals of the customer's images and recordings go with the text (their
                # text read went with the meta above, their transcripts with the text).
                s.execute(delete(MessageImage).where(MessageImage.conversation_id.in_(ids)))
                s.execute(delete(MessageAudio).where(MessageAudio.conversation_id.in_(ids)))
                s.execute(delete(DialogueStateRow).where(DialogueStateRow.conversation_id.in_(ids)))
                # The customer's rating keeps its score and language for the figures; the comment goes.
                s.execute(
                    update(CsatRating)
                    .where(CsatRating.conversation_id.in_(ids))
                    .values(comment="", nlu={}, customer_id=ANONYMOUS_CUSTOMER_ID)
                )
                # Their events carry the messages' text: gone with it (consumers handled them long ago).
                s.execute(delete(EventRecord).where(EventRecord.conversation_id.in_(ids)))
                # The human side: notes go, handoffs keep only what analytics needs (queue, reason,
                # intents, emotions, timing, disposition), knowledge drafts lose the link.
                s.execute(delete(AgentNote).where(AgentNote.conversation_id.in_(ids)))
                for h in s.scalars(select(Handoff).where(Handoff.conversation_id.in_(ids))):
                    h.customer_id = ANONYMOUS_CUSTOMER_ID
                    h.packet = reduce_packet(h.packet)
                    h.explanation = f"{h.reason} → {h.queue} queue, priority {h.priority}"
                    h.offer_note = ""
                    h.wrap_note = None
                s.execute(
                    update(KnowledgeDraft)
                    .where(KnowledgeDraft.conversation_id.in_(ids))
                    .values(conversation_id=None)
                )
                counts["issues"] += _deleted(s, CustomerIssue, CustomerIssue.conversation_id.in_(ids))
                s.execute(delete(IdentityFailure).where(IdentityFailure.conversation_id.in_(ids)))
                s.execute(delete(VerificationChallenge).where(VerificationChallenge.conversation_id.in_(ids)))
                # WeChat: an openid whose latest conversation expired is forgotten, binding and all
                # (the customer binds again), with the record of what was sent to it.
                s.execute(delete(WeChatDelivery).where(WeChatDelivery.conversation_id.in_(ids)))
                s.execute(delete(WeChatUser).where(WeChatUser.conversation_id.in_(ids)))
                # Social: likewise, an author whose latest conversation expired is forgotten.
                s.execute(delete(SocialDelivery).where(SocialDelivery.conversation_id.in_(ids)))
                s.execute(delete(SocialAuthor).where(SocialAuthor.conversation_id.in_(ids)))
                s.execute(delete(WeChatConversation).where(WeChatConversation.conversation_id.in_(ids)))
                s.execute(
                    update(Conversation)
                    .where(Conversation.id.in_(ids))
                    .values(
                        customer_id=ANONYMOUS_CUSTOMER_ID,
                        state=ConversationState.CLOSED.value,
                        closed_at=func.coalesce(Conversation.closed_at, now),
                        anonymised_at=now,
                        nlu_pruned_at=now,
                    )
                )
                counts["conversations"] += len(ids)
        counts["issues"] += self._delete_batches(
            CustomerIssue, CustomerIssue.id, CustomerIssue.updated_at < cutoff
        )
        counts["customers"] = self._delete_batches(Customer, Customer.id, orphan)
        return counts

    def _dialogue_state(self, cutoff: datetime, now: datetime, dry_run: bool) -> dict[str, int]:
        due = DialogueStateRow.updated_at < cutoff
        if dry_run:
            return {"states": self._count(DialogueStateRow, due)}
        return {"states": self._delete_batches(DialogueStateRow, DialogueStateRow.conversation_id, due)}

    def _verification(self, cutoff: datetime, now: datetime, dry_run: bool) -> dict[str, int]:
        challenges = VerificationChallenge.created_at < cutoff
        failures = IdentityFailure.failed_at < cutoff
        # A customer's lock row goes once its lock-out is over and nothing recent refers to it.
        lockouts = and_(
            or_(IdentityLockout.locked_until.is_(None), IdentityLockout.locked_until < cutoff),
            ~exists().where(
                VerificationChallenge.customer_ref == IdentityLockout.customer_ref,
                VerificationChallenge.created_at >= cutoff,
            ),
            ~exists().where(
                IdentityFailure.customer_ref == IdentityLockout.customer_ref,
                IdentityFailure.failed_at >= cutoff,
            ),
        )
        if dry_run:
            return {
                "challenges": self._count(VerificationChallenge, challenges),
                "failures": self._count(IdentityFailure, failures),
                "lockouts": self._count(IdentityLockout, lockouts),
            }
        return {
            "challenges": self._delete_batches(VerificationChallenge, VerificationChallenge.id, challenges),
            "failures": self._delete_batches(IdentityFailure, IdentityFailure.id, failures),
            "lockouts": self._delete_batches(IdentityLockout, IdentityLockout.customer_ref, lockouts),
        }

    def _outbox(self, cutoff: datetime, now: datetime, dry_run: bool) -> dict[str, int]:
        due = OutboxMessage.created_at < cutoff
        if dry_run:
            return {"notifications": self._count(OutboxMessage, due)}
        return {"notifications": self._delete_batches(OutboxMessage, OutboxMessage.id, due)}

    def _action_records(self, cutoff: datetime, now: datetime, dry_run: bool) -> dict[str, int]:
        runs = ActionAudit.at < cutoff
        results = and_(ActionIdempotency.created_at < cutoff, ActionIdempotency.state == "done")
        if dry_run:
            return {
                "runs": self._count(ActionAudit, runs),
                "results": self._count(ActionIdempotency, results),
            }
        return {
            "runs": self._delete_batches(ActionAudit, ActionAudit.id, runs),
            "results": self._delete_batches(ActionIdempotency, ActionIdempotency.id, results),
        }

    # ---- helpers --------------------------------------------------------------------------------

    def _count(self, model: type[Any], condition: ColumnElement[bool]) -> int:
        with reading(self._sessions) as s:
            return int(s.execute(select(func.count()).select_from(model).where(condition)).scalar_one())

    def _delete_batches(
        self, model: type[Any], key: InstrumentedAttribute[Any], condition: ColumnElement[bool]
    ) -> int:
        total = 0
        while True:
            with transaction(self._sessions) as s:
                ids = s.scalars(select(key).where(condition).limit(self._batch)).all()
                if not ids:
                    return total
                s.execute(delete(model).where(key.in_(ids)))
                total += len(ids)

    def _ensure_anonymous_customer(self, s: Session) -> None:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        s.execute(
            insert(Customer)
            .values(id=ANONYMOUS_CUSTOMER_ID, bank_ref=None, language=None, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["id"])
        )


def _deleted(s: Session, model: type[Any], condition: ColumnElement[bool]) -> int:
    n = int(s.execute(select(func.count()).select_from(model).where(condition)).scalar_one())
    if n:
        s.execute(delete(model).where(condition))
    return n
