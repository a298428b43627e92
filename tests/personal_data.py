"""One customer's footprint in every Helixdesk table, written directly, for retention and erasure tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, text

from helixdesk.actions.models import ActionAudit, ActionIdempotency, Dispute
from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.channels.social.models import SocialAuthor, SocialDelivery
from helixdesk.channels.wechat.models import WeChatConversation, WeChatDelivery, WeChatUser
from helixdesk.conversations.models import (
    ChannelIdentity,
    Conversation,
    Customer,
    Message,
    MessageAudio,
    MessageImage,
)
from helixdesk.db.session import transaction
from helixdesk.dialogue.state import DialogueStateRow
from helixdesk.edge.tables import Base
from helixdesk.handoff.models import AgentNote, Handoff
from helixdesk.identity.models import IdentityFailure, IdentityLockout, VerificationChallenge
from helixdesk.incidents.models import IncidentExplanationRow, IncidentRow
from helixdesk.memory.models import CustomerIssue
from helixdesk.notifications.models import OutboxMessage


def nlu(text_: str) -> dict[str, object]:
    return {
        "text": text_,
        "normalized": text_.lower(),
        "language": "zh-Hans",
        "intent": {"name": "card_lost", "confidence": 0.93},
        "intent_ranking": [{"name": "card_lost", "confidence": 0.93}],
        "entities": [{"type": "card_tail", "value": "6621", "text": "尾号6621", "start": 0, "end": 6}],
        "emotion": {"label": "fear", "intensity": 0.7, "scores": {"fear": 0.7}},
        "risk": [{"type": "urgency", "evidence": "马上", "start": 0, "end": 2, "weight": 0.5}],
    }


def add_conversation(s, customer_id: str, *, marker: str, at: datetime, messages: int = 3) -> str:
    conv = Conversation(
        customer_id=customer_id,
        channel="web",
        language="zh-Hans",
        last_seq=messages,
        created_at=at,
        updated_at=at,
    )
    s.add(conv)
    s.flush()
    stored = []
    for seq in range(1, messages + 1):
        customer_turn = seq % 2 == 1
        stored.append(
            Message(
                conversation_id=conv.id,
                seq=seq,
                sender="customer" if customer_turn else "bot",
                text=f"{marker} message {seq}",
                client_message_id=f"{marker}-{seq}",
                meta={"nlu": nlu(f"{marker} message {seq}")} if customer_turn else {"kind": "answer"},
                created_at=at,
            )
        )
    s.add_all(stored)
    s.flush()
    # The first message came with an image (its original is kept encrypted; the marker stands in).
    s.add(
        MessageImage(
            message_id=stored[0].id,
            conversation_id=conv.id,
            content_type="image/png",
            size=1,
            width=16,
            height=16,
            sha256="0" * 64,
            data=f"hx1:k1:{marker}-image",
            created_at=at,
        )
    )
    # The second customer message was a voice message (its recording kept encrypted likewise).
    if len(stored) >= 3:
        s.add(
            MessageAudio(
                message_id=stored[2].id,
                conversation_id=conv.id,
                content_type="audio/amr",
                size=1,
                duration_ms=1000,
                sha256="0" * 64,
                data=f"hx1:k1:{marker}-audio",
                created_at=at,
            )
        )
    s.add(
        DialogueStateRow(conversation_id=conv.id, data={"slots": {"note": marker}}, version=1, updated_at=at)
    )
    # The bot told them about an incident (the incident itself is the bank's, not theirs).
    incident = IncidentRow(
        kind="outage",
        title={"en": "App down"},
        explanation={"en": "The app is down."},
        started_at=at,
        status="open",
        created_by="ops",
        created_at=at,
        updated_at=at,
    )
    s.add(incident)
    s.flush()
    s.add(
        IncidentExplanationRow(
            incident_id=incident.id,
            conversation_id=conv.id,
            message_id=str(uuid.uuid4()),
            version=1,
            language="zh-Hans",
            explained_at=at,
        )
    )
    return conv.id


def seed(sessions, audit: AuditLog, ref: str, *, marker: str, at: datetime) -> dict[str, str]:
    """The customer `ref` with a conversation dated `at` and a row in every table that can hold them."""
    with transaction(sessions) as s:
        customer = Customer(bank_ref=ref, language="zh-Hans", created_at=at)
        s.add(customer)
        s.flush()
        s.add(
            ChannelIdentity(
                customer_id=customer.id, channel="wechat", address=f"openid-{marker}", created_at=at
            )
        )
        conv_id = add_conversation(s, customer.id, marker=marker, at=at)
        s.add(
            CustomerIssue(
                customer_id=customer.id,
                conversation_id=conv_id,
                topic="card",
                intent="card_lost",
                facts={"note": marker},
                opened_at=at,
                updated_at=at,
            )
        )
        challenge = str(uuid.uuid4())
        s.add(
            VerificationChallenge(
                id=challenge,
                conversation_id=conv_id,
                customer_ref=ref,
                channel="sms",
                destination_masked="138****5678",
                code_hmac="0" * 64,
                created_at=at,
                expires_at=at + timedelta(minutes=5),
                attempts=1,
                max_attempts=3,
                status="failed",
            )
        )
        s.add(
            IdentityFailure(customer_ref=ref, conversation_id=conv_id, challenge_id=challenge, failed_at=at)
        )
        s.add(
            IdentityLockout(
                customer_ref=ref, locked_at=at, locked_until=at + timedelta(minutes=30), lockouts=1
            )
        )
        s.add(
            OutboxMessage(
                id=str(uuid.uuid4()),
                customer_ref=ref,
                channel="sms",
                destination="+8613812345678",
                body=f"{marker} code 123456",
                purpose="identity_verification",
                created_at=at,
            )
        )
        s.add(
            ActionAudit(
                at=at,
                actor="bot",
                customer_ref=ref,
                conversation_id=conv_id,
                action="get_balance",
                input_json=f'{{"note": "{marker}"}}',
                status="ok",
                summary=marker,
            )
        )
        s.add(
            ActionIdempotency(
                key=f"{conv_id}:freeze",
                action="freeze_card",
                customer_ref=ref,
                request_json=f'{{"note": "{marker}"}}',
                state="done",
                result_json="{}",
                created_at=at,
                finished_at=at,
            )
        )
        s.add(
            Dispute(
                ref=f"D-{marker}",
                customer_ref=ref,
                transaction_ref=f"T-{marker}",
                account_number="6222000011112222",
                merchant="美团",
                reason="duplicate",
                amount_minor=3500,
                currency="CNY",
                status="opened",
                created_at=at,
                updated_at=at,
            )
        )
        # The human side: a handoff whose packet quotes the customer, and an agent's note.
        s.add(
            Handoff(
                conversation_id=conv_id,
                customer_id=customer.id,
                queue="fraud",
                status="closed",
                reason="fraud_risk",
                intent="card_fraud_report",
                language="zh-Hans",
                priority=95,
                score=95.0,
                sla_seconds=60,
                explanation=f'fraud_risk ("{marker}") → fraud queue, priority 95',
                negativity=0.8,
                packet={
                    "trigger": "fraud_risk",
                    "queue": "fraud",
                    "intents": ["card_fraud_report"],
                    "customer": {"ref": ref},
                    "key_messages": [{"seq": 1, "text": f"{marker} message 1"}],
                    "summary": {"zh-Hans": f"客户 {ref}：{marker}", "en": f"Customer {ref}: {marker}"},
                    "emotions": [{"seq": 1, "label": "fear", "intensity": 0.8}],
                    "risk": [{"type": "fraud", "evidence": marker, "weight": 0.9}],
                    "next_step": "verify_and_freeze",
                },
                offer_note=f"their relationship manager {marker}",
                created_at=at,
                claimed_at=at,
                closed_at=at,
                disposition="card_frozen",
                resolution="resolved",
                wrap_note=f"{marker} wrap-up",
            )
        )
        s.add(AgentNote(conversation_id=conv_id, author_name="agent", text=f"{marker} note", created_at=at))
        s.add(
            WeChatUser(
                account="mp",
                openid=f"o-{marker}",
                conversation_id=conv_id,
                customer_ref=ref,
                bound_at=at,
                created_at=at,
            )
        )
        s.add(WeChatDelivery(message_id=f"m-{marker}", conversation_id=conv_id, via="api", created_at=at))
        s.add(
            SocialAuthor(
                platform="weibo",
                author_id=f"a-{marker}",
                author_name=f"{marker} name",
                reply_to=f"post-{marker}",
                conversation_id=conv_id,
                created_at=at,
            )
        )
        s.add(SocialDelivery(message_id=f"s-{marker}", conversation_id=conv_id, created_at=at))
        s.add(WeChatConversation(conversation_id=conv_id, account="mp", openid=f"o-{marker}", created_at=at))
        audit.record(s, actor=Actor.bot(), action="action.get_balance", target=Target.customer(ref))
    return {"customer_id": customer.id, "conversation_id": conv_id}


EXCLUDED = ("audit_log", "audit_chain_head", "audit_prune_permits", "disputes")


def cells_mentioning(engine, needles: list[str]) -> list[str]:
    """`table.column` of every stored value containing any needle, outside the kept tables and the bank."""
    found = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in EXCLUDED or table.name.startswith("bank_"):
                continue
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is not None and any(n in str(value) for n in needles):
                        found.append(f"{table.name}.{column}")
    return sorted(set(found))


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def add_image(sessions, keyring, conversation_id: str, data: bytes, *, marker: str, at: datetime) -> str:
    """A customer's image message in the conversation, as an upload leaves it: the text read
    (masked) and its fields on the message, the original encrypted in `message_images`."""
    import base64
    import hashlib

    from helixdesk.conversations.images import image_aad

    image_id = str(uuid.uuid4())
    with transaction(sessions) as s:
        conv = s.get_one(Conversation, conversation_id)
        conv.last_seq += 1
        message = Message(
            conversation_id=conversation_id,
            seq=conv.last_seq,
            sender="customer",
            text="",
            meta={
                "kind": "image",
                "image": {
                    "id": image_id,
                    "kind": "error",
                    "text": f"{marker} 错误代码：E1023",
                    "fields": {"error_code": "E1023"},
                },
            },
            created_at=at,
        )
        s.add(message)
        s.flush()
        s.add(
            MessageImage(
                id=image_id,
                message_id=message.id,
                conversation_id=conversation_id,
                content_type="image/png",
                size=len(data),
                width=320,
                height=200,
                sha256=hashlib.sha256(data).hexdigest(),
                data=keyring.encrypt(base64.b64encode(data).decode(), aad=image_aad(image_id)),
                created_at=at,
            )
        )
        return message.id
