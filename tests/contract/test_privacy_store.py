"""The vault and key rotation on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from helixdesk.conversations.models import Conversation, Customer, Message
from helixdesk.core.errors import AppError
from helixdesk.db.session import transaction
from helixdesk.edge.encrypted import ENCRYPTED_COLUMNS
from helixdesk.notifications import list_outbox
from helixdesk.notifications.models import OutboxMessage
from helixdesk.privacy import mask_text
from helixdesk.privacy.crypto import Keyring, generate_key
from helixdesk.privacy.models import PiiValue
from helixdesk.privacy.rotation import pending_count, rotate, status
from helixdesk.privacy.vault import list_values, reveal_value, store_values
from tests.outbox import send_codes

OLD = generate_key("k1")
NEW = generate_key("k2")
CARD = "6222 0212 3456 7890 128"
TEXT = f"卡号{CARD}，手机13812345678，验证码 123456"


def _message(sessions, keyring: Keyring, text_: str = TEXT) -> str:
    masked = mask_text(text_)
    with transaction(sessions) as s:
        customer = Customer()
        s.add(customer)
        s.flush()
        conv = Conversation(customer_id=customer.id, channel="web")
        s.add(conv)
        s.flush()
        msg = Message(conversation_id=conv.id, seq=1, sender="customer", text=masked.text, meta={})
        s.add(msg)
        s.flush()
        store_values(s, keyring, message_id=msg.id, masked=masked)
        return msg.id


def test_the_vault_keeps_values_encrypted_and_reveals_one_with_a_reason(sessions, engine):
    ring = Keyring.parse(OLD)
    message_id = _message(sessions, ring)
    values = list_values(sessions, message_id)
    # The code is a secret: masked in the text, never kept.
    assert [(v.span_index, v.type, v.masked) for v in values] == [
        (0, "card_number", "**** **** **** 0128"),
        (1, "phone", "138****5678"),
    ]
    with sessions() as s:
        stored = s.scalar(select(Message.text).where(Message.id == message_id))
    assert stored is not None and stored[values[0].masked_start : values[0].masked_end] == values[0].masked
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT * FROM pii_values")):
            assert all(v is None or "13812345678" not in str(v) for v in row)
    shown = reveal_value(
        sessions, ring, message_id=message_id, span_index=0, actor="agent:a.lee", reason="customer asked"
    )
    assert (shown.value, shown.type, shown.actor, shown.reason) == (
        CARD,
        "card_number",
        "agent:a.lee",
        "customer asked",
    )
    assert shown.revealed_at.tzinfo is not None


@pytest.mark.parametrize(
    ("span_index", "actor", "reason", "code"),
    [
        (0, "agent:a.lee", "  ", "reveal_reason_required"),
        (0, "agent:a.lee", "why", "reveal_reason_required"),
        (0, " ", "customer asked", "reveal_actor_required"),
        (2, "agent:a.lee", "customer asked", "pii_value_not_found"),  # the code was never kept
    ],
)
def test_reveal_refuses_without_reason_actor_or_value(sessions, span_index, actor, reason, code):
    ring = Keyring.parse(OLD)
    message_id = _message(sessions, ring)
    with pytest.raises(AppError) as e:
        reveal_value(sessions, ring, message_id=message_id, span_index=span_index, actor=actor, reason=reason)
    assert e.value.code == code


def test_rotation_moves_every_value_to_the_active_key_and_is_idempotent(sessions):
    old = Keyring.parse(OLD)
    message_ids = [_message(sessions, old) for _ in range(3)]
    send_codes(sessions, old, 3, body="验证码 00012{i}")
    with transaction(sessions) as s:  # a row written before encryption was turned on
        s.add(
            OutboxMessage(
                id="legacy",
                customer_ref="C000002",
                channel="sms",
                destination="+85291234567",
                body="legacy code 654321",
                purpose="verify",
                created_at=datetime(2026, 11, 22, tzinfo=UTC),
            )
        )
    both = Keyring.parse(f"{OLD},{NEW}", active="k2")
    assert pending_count(sessions, both, columns=ENCRYPTED_COLUMNS) == 6 + 4 + 4
    before = {c.name: c.by_key for c in status(sessions, both, columns=ENCRYPTED_COLUMNS)}
    assert before["pii_values.ciphertext"] == {"k1": 6}
    assert before["notification_outbox.body"] == {"k1": 3, "plain text": 1}

    batches: list[int] = []
    assert rotate(sessions, both, columns=ENCRYPTED_COLUMNS, batch_size=2, progress=batches.append) == 14
    assert sum(batches) == 14 and max(batches) == 2
    assert pending_count(sessions, both, columns=ENCRYPTED_COLUMNS) == 0
    assert rotate(sessions, both, columns=ENCRYPTED_COLUMNS, batch_size=2) == 0  # nothing left to do

    # The old key can go: everything decrypts with the new one alone.
    new_only = Keyring.parse(NEW)
    shown = reveal_value(
        sessions, new_only, message_id=message_ids[2], span_index=1, actor="ops", reason="test run"
    )
    assert shown.value == "13812345678"
    with sessions() as s:
        assert set(s.scalars(select(PiiValue.key_id))) == {"k2"}
    bodies = sorted(e.body for e in list_outbox(sessions, new_only))
    assert bodies == ["legacy code 654321", "验证码 000120", "验证码 000121", "验证码 000122"]


def test_a_value_under_an_unknown_key_stops_rotation_with_a_clear_error(sessions):
    old = Keyring.parse(OLD)
    _message(sessions, old)
    _message(sessions, Keyring.parse(generate_key("lost")))
    ring = Keyring.parse(f"{OLD},{NEW}", active="k2")
    with pytest.raises(AppError) as e:
        rotate(sessions, ring, columns=ENCRYPTED_COLUMNS, batch_size=1)
    assert e.value.code == "encryption_key_unknown" and "lost" in e.value.detail
    with sessions() as s:  # what came before the unknown key is done and stays done
        by_key = sorted(s.scalars(select(PiiValue.key_id)))
    assert by_key == ["k2", "k2", "lost", "lost"]
