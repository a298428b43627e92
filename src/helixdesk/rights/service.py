"""Export (`helixdesk customers export REF`) and erasure (`helixdesk customers erase REF`).

The export is one JSON document. It holds the images the customer sent as files: each
conversation's `images` lists their originals, decrypted, base64 in `data_base64`; the text read
from each and its fields (masked, as stored) are on its message, under `meta.image`.

A customer is named by their bank customer number (`C000001`) or by Helixdesk's customer id (for
anonymous visitors). What is erased: their customer record and channel identities (with their
WeChat openids and bindings, which openid each WeChat conversation was with, and the record of
messages sent to WeChat; their social-media author ids and names, and the record of messages sent to
the platform),
conversations with every message and their ratings of them (CSAT), handoffs and agents' notes, dialogue states, the
incidents they were told about in them, remembered issues, one-time-code challenges,
failed attempts and lock-outs, outbox notifications, action run records and idempotency results.

What is kept, and why:
- the audit log's entries about them: the tamper-evident record of who accessed or changed their
  data, kept under the bank's record-keeping duty (PIPL art. 47 allows keeping what a law
  requires); entries hold customer numbers and ids, never message text;
- disputes: the bank's case records of a financial claim (the refund itself lives in the core
  bank), kept for the same reason; they hold no conversation text;
- the core bank's data (accounts, cards, transactions): the bank's system of record, outside
  Helixdesk; the bank erases it through its own process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk import __version__
from helixdesk.actions.models import ActionAudit, ActionIdempotency, Dispute
from helixdesk.audit import Actor, AuditLog, AuditQuery, Target, search
from helixdesk.audit.models import AuditLogRow
from helixdesk.bus.outbox import EventRecord
from helixdesk.channels.social.models import SocialAuthor, SocialDelivery
from helixdesk.channels.wechat.models import WeChatConversation, WeChatDelivery, WeChatUser
from helixdesk.conversations.images import image_aad
from helixdesk.conversations.models import (
    ChannelIdentity,
    Conversation,
    CsatRating,
    Customer,
    Message,
    MessageAudio,
    MessageImage,
)
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError
from helixdesk.db.session import transaction
from helixdesk.dialogue.state import DialogueStateRow
from helixdesk.handoff.models import AgentNote, Handoff
from helixdesk.identity.models import IdentityFailure, IdentityLockout, VerificationChallenge
from helixdesk.incidents.models import IncidentExplanationRow
from helixdesk.memory.models import CustomerIssue
from helixdesk.notifications.models import OutboxMessage
from helixdesk.privacy.crypto import CiphertextInvalidError, DecryptionError, Keyring, UnknownKeyError

EXPORT_FORMAT = "helixdesk.customer_export.v1"
NOT_HELD = (
    "Accounts, cards, transactions and statements are held by the bank's core banking system, "
    "not by Helixdesk; ask the bank for them."
)


class RightsCustomerNotFoundError(NotFoundError):
    code = "customer_not_found"


@dataclass(frozen=True, slots=True)
class _Who:
    ref: str | None  # bank customer number, when known
    customer_ids: tuple[str, ...]
    conversation_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ErasureReport:
    ref: str
    deleted: dict[str, int]
    kept: dict[str, int]
    audit_seq: int
    # Whose events the event bus must drop too (`helixdesk customers erase` does it).
    conversation_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "deleted": self.deleted, "kept": self.kept, "audit_seq": self.audit_seq}


def _who(s: Session, ref: str) -> _Who:
    customers = s.scalars(select(Customer).where(or_(Customer.bank_ref == ref, Customer.id == ref))).all()
    bank_ref = next((c.bank_ref for c in customers if c.bank_ref), None)
    if not customers:
        bank_ref = ref  # data keyed by customer number only (codes sent, action runs, notifications)
    ids = tuple(c.id for c in customers)
    conversations = tuple(s.scalars(select(Conversation.id).where(Conversation.customer_id.in_(ids))).all())
    return _Who(bank_ref, ids, conversations)


def _by_ref(column: Any, who: _Who) -> ColumnElement[bool]:
    return column == who.ref if who.ref is not None else false()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(
    s: Session, model: type[Any], condition: ColumnElement[bool], *, omit: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    table = model.__table__
    order = list(table.primary_key.columns)
    return [
        {c.name: _plain(getattr(row, c.key)) for c in table.columns if c.name not in omit}
        for row in s.scalars(select(model).where(condition).order_by(*order))
    ]


def _images(s: Session, conversation_id: str, keyring: Keyring | None) -> list[dict[str, Any]]:
    """The originals of the conversation's images, decrypted (without the keys: listed, no data)."""
    out = []
    for row in _rows(
        s, MessageImage, MessageImage.conversation_id == conversation_id, omit=("conversation_id",)
    ):
        token = row.pop("data")
        row["data_base64"] = None
        if keyring is None:
            row["not_included"] = "the export was made without the encryption keys"
        else:
            try:
                row["data_base64"] = keyring.decrypt(token, aad=image_aad(row["id"]))
            except (UnknownKeyError, DecryptionError, CiphertextInvalidError):
                row["not_included"] = "it is encrypted with a key this server does not have"
        out.append(row)
    return out


def _gather(s: Session, who: _Who, keyring: Keyring | None) -> dict[str, Any]:
    conversations = []
    for conv in _rows(s, Conversation, Conversation.id.in_(who.conversation_ids)):
        conv["messages"] = _rows(s, Message, Message.conversation_id == conv["id"], omit=("conversation_id",))
        conv["messages"].sort(key=lambda m: m["seq"])
        conv["images"] = _images(s, conv["id"], keyring)
        state = s.get(DialogueStateRow, conv["id"])
        conv["dialogue_state"] = None if state is None else state.data
        conv["handoffs"] = _rows(s, Handoff, Handoff.conversation_id == conv["id"], omit=("conversation_id",))
        conv["agent_notes"] = _rows(
            s, AgentNote, AgentNote.conversation_id == conv["id"], omit=("conversation_id",)
        )
        conv["incidents_explained"] = _rows(
            s,
            IncidentExplanationRow,
            IncidentExplanationRow.conversation_id == conv["id"],
            omit=("id", "conversation_id"),
        )
        conv["rating"] = next(
            iter(_rows(s, CsatRating, CsatRating.conversation_id == conv["id"], omit=("conversation_id",))),
            None,
        )
        conversations.append(conv)
    customers = _rows(s, Customer, Customer.id.in_(who.customer_ids))
    for c in customers:
        c["channel_identities"] = _rows(s, ChannelIdentity, ChannelIdentity.customer_id == c["id"])
    conv_or_ref = or_(
        _by_ref(VerificationChallenge.customer_ref, who),
        VerificationChallenge.conversation_id.in_(who.conversation_ids),
    )
    return {
        "customers": customers,
        "conversations": conversations,
        "issues": _rows(s, CustomerIssue, CustomerIssue.customer_id.in_(who.customer_ids)),
        "verification": {
            # The code's HMAC is a security secret of the bank, not information about the customer.
            "challenges": _rows(s, VerificationChallenge, conv_or_ref, omit=("code_hmac",)),
            "failures": _rows(s, IdentityFailure, _by_ref(IdentityFailure.customer_ref, who)),
            "lockouts": _rows(s, IdentityLockout, _by_ref(IdentityLockout.customer_ref, who)),
        },
        "notifications": _rows(s, OutboxMessage, _by_ref(OutboxMessage.customer_ref, who)),
        "action_runs": _rows(
            s,
            ActionAudit,
            or_(
                _by_ref(ActionAudit.customer_ref, who), ActionAudit.conversation_id.in_(who.conversation_ids)
            ),
        ),
        "action_results": _rows(s, ActionIdempotency, _by_ref(ActionIdempotency.customer_ref, who)),
        "disputes": _rows(s, Dispute, _by_ref(Dispute.customer_ref, who)),
        "wechat": _rows(s, WeChatUser, _wechat_users(who), omit=("id",)),
        "social": _rows(
            s, SocialAuthor, SocialAuthor.conversation_id.in_(who.conversation_ids), omit=("id",)
        ),
        "wechat_conversations": _rows(
            s, WeChatConversation, WeChatConversation.conversation_id.in_(who.conversation_ids)
        ),
    }


def _found(data: dict[str, Any]) -> bool:
    return any(
        data[k] for k in ("customers", "conversations", "issues", "notifications", "action_runs", "disputes")
    ) or any(data["verification"].values())


def export_customer(
    sessions: sessionmaker[Session],
    audit: AuditLog,
    ref: str,
    *,
    actor: Actor,
    reason: str = "",
    keyring: Keyring | None = None,
) -> dict[str, Any]:
    """Everything Helixdesk holds about the customer `ref`, as JSON-ready data (audited). With the
    `keyring`, the originals of the images they sent are in it, decrypted."""
    with transaction(sessions) as s:
        who = _who(s, ref)
        data = _gather(s, who, keyring)
        if not _found(data):
            raise RightsCustomerNotFoundError(f"Helixdesk holds no data about customer {ref!r}")
        about = who.ref or ref
        entries = search(s, AuditQuery(customer_ref=about, limit=10_000))
        logged = audit.record(
            s,
            actor=actor,
            action="customer.exported",
            target=Target.customer(about),
            reason=reason or "customer's request for a copy of their personal information",
            details={
                "conversations": len(data["conversations"]),
                "images": sum(1 for c in data["conversations"] for i in c["images"] if i["data_base64"]),
            },
        )
    return {
        "format": EXPORT_FORMAT,
        "generated_at": utcnow().isoformat(),
        "generated_by": f"Helixdesk {__version__}",
        "customer_ref": who.ref,
        **data,
        "access_log": [e.to_dict() for e in reversed(entries)],
        "not_held_here": NOT_HELD,
        "audit_seq": logged.seq,
    }


def erase_customer(
    sessions: sessionmaker[Session], audit: AuditLog, ref: str, *, actor: Actor, reason: str = ""
) -> ErasureReport:
    """Delete everything Helixdesk holds about `ref` except what the module docstring keeps."""
    with transaction(sessions) as s:
        who = _who(s, ref)
        convs = Conversation.id.in_(who.conversation_ids)
        steps: list[tuple[str, type[Any], ColumnElement[bool]]] = [
            ("message_images", MessageImage, MessageImage.conversation_id.in_(who.conversation_ids)),
            ("message_audio", MessageAudio, MessageAudio.conversation_id.in_(who.conversation_ids)),
            ("messages", Message, Message.conversation_id.in_(who.conversation_ids)),
            (
                "ratings",
                CsatRating,
                or_(
                    CsatRating.conversation_id.in_(who.conversation_ids),
                    CsatRating.customer_id.in_(who.customer_ids),
                ),
            ),
            ("dialogue_states", DialogueStateRow, DialogueStateRow.conversation_id.in_(who.conversation_ids)),
            (
                "incident_explanations",
                IncidentExplanationRow,
                IncidentExplanationRow.conversation_id.in_(who.conversation_ids),
            ),
            (
                "issues",
                CustomerIssue,
                or_(
                    CustomerIssue.customer_id.in_(who.customer_ids),
                    CustomerIssue.conversation_id.in_(who.conversation_ids),
                ),
            ),
            (
                "verification_challenges",
                VerificationChallenge,
                or_(
                    _by_ref(VerificationChallenge.customer_ref, who),
                    VerificationChallenge.conversation_id.in_(who.conversation_ids),
                ),
            ),
            (
                "identity_failures",
                IdentityFailure,
                or_(
                    _by_ref(IdentityFailure.customer_ref, who),
                    IdentityFailure.conversation_id.in_(who.conversation_ids),
                ),
            ),
            ("identity_lockouts", IdentityLockout, _by_ref(IdentityLockout.customer_ref, who)),
            ("notifications", OutboxMessage, _by_ref(OutboxMessage.customer_ref, who)),
            (
                "action_runs",
                ActionAudit,
                or_(
                    _by_ref(ActionAudit.customer_ref, who),
                    ActionAudit.conversation_id.in_(who.conversation_ids),
                ),
            ),
            ("action_results", ActionIdempotency, _by_ref(ActionIdempotency.customer_ref, who)),
            ("agent_notes", AgentNote, AgentNote.conversation_id.in_(who.conversation_ids)),
            # The event log holds the messages' (masked) text and the link to the customer.
            ("events", EventRecord, EventRecord.conversation_id.in_(who.conversation_ids)),
            (
                "handoffs",
                Handoff,
                or_(
                    Handoff.conversation_id.in_(who.conversation_ids),
                    Handoff.customer_id.in_(who.customer_ids),
                ),
            ),
            ("wechat_deliveries", WeChatDelivery, WeChatDelivery.conversation_id.in_(who.conversation_ids)),
            ("wechat_users", WeChatUser, _wechat_users(who)),
            ("social_deliveries", SocialDelivery, SocialDelivery.conversation_id.in_(who.conversation_ids)),
            ("social_authors", SocialAuthor, SocialAuthor.conversation_id.in_(who.conversation_ids)),
            (
                "wechat_conversations",
                WeChatConversation,
                WeChatConversation.conversation_id.in_(who.conversation_ids),
            ),
            ("conversations", Conversation, convs),
            ("channel_identities", ChannelIdentity, ChannelIdentity.customer_id.in_(who.customer_ids)),
            ("customers", Customer, Customer.id.in_(who.customer_ids)),
        ]
        deleted: dict[str, int] = {}
        for name, model, condition in steps:
            deleted[name] = int(
                s.execute(select(func.count()).select_from(model).where(condition)).scalar_one()
            )
            if deleted[name]:
                s.execute(delete(model).where(condition))
        if not any(deleted.values()):
            raise RightsCustomerNotFoundError(f"Helixdesk holds no data about customer {ref!r}")
        about = who.ref or ref
        kept = {
            "disputes": int(
                s.execute(
                    select(func.count()).select_from(Dispute).where(_by_ref(Dispute.customer_ref, who))
                ).scalar_one()
            ),
            "audit_entries": int(
                s.execute(
                    select(func.count()).select_from(AuditLogRow).where(AuditLogRow.customer_ref == about)
                ).scalar_one()
            ),
        }
        logged = audit.record(
            s,
            actor=actor,
            action="customer.erased",
            target=Target.customer(about),
            reason=reason or "customer's request to delete their personal information",
            details={"deleted": deleted, "kept": kept},
        )
    return ErasureReport(about, deleted, kept, logged.seq, tuple(who.conversation_ids))


def _wechat_users(who: _Who) -> ColumnElement[bool]:
    """The customer's WeChat openids: bound to them, or pointing at one of their conversations."""
    return or_(_by_ref(WeChatUser.customer_ref, who), WeChatUser.conversation_id.in_(who.conversation_ids))
