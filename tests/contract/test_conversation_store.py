"""The conversation service on SQLite and on PostgreSQL: same behaviour, same guarantees."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.conversations.errors import (
    ConversationClosedError,
    ConversationNotFoundError,
    CustomerNotFoundError,
    EmptyMessageError,
    MessageTooLongError,
)
from helixdesk.conversations.models import Conversation, Message
from helixdesk.core.clock import utcnow
from helixdesk.core.events import ConversationCreated, MessageReceived, ReplySent
from helixdesk.db.session import transaction
from tests.events import collect_events


@pytest.fixture
def bus():
    return MemoryEventBus()


@pytest.fixture
def desk(sessions, bus, make_conversations):
    # A turn's claim lasts a second here, so a retry after a simulated crash is answered quickly.
    return make_conversations(sessions, bus, max_message_chars=200, turn_lease_seconds=1)


@pytest.fixture
def service(desk):
    return desk.conversations


async def test_messages_get_consecutive_sequence_numbers_and_replies(desk, service, bus):
    events = await collect_events(bus)
    conv = await service.create_conversation(channel="web", language="en")
    assert conv.state == "bot"
    first = await service.post_customer_message(conv.id, "hello there")
    second = await service.post_customer_message(conv.id, "你好")
    assert first.message.seq == 1
    assert [r.message.seq for r in first.replies] == [2]
    assert "Hello" in first.replies[0].text
    assert second.message.seq == 3
    assert "您好" in second.replies[0].text
    assert second.replies[0].message.in_reply_to == second.message.id
    await desk.settle()
    assert [type(e) for e in events] == [
        ConversationCreated,
        MessageReceived,
        ReplySent,
        MessageReceived,
        ReplySent,
    ]
    messages = await service.list_messages(conv.id, after_seq=2)
    assert [m.seq for m in messages] == [3, 4]
    await bus.stop()


async def test_same_client_message_id_stores_one_message(service, sessions):
    conv = await service.create_conversation(channel="app")
    a = await service.post_customer_message(conv.id, "my card", client_message_id="c-1")
    b = await service.post_customer_message(conv.id, "my card", client_message_id="c-1")
    assert b.duplicate is True
    assert b.message.id == a.message.id
    assert [r.message.id for r in b.replies] == [r.message.id for r in a.replies]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.sender == "customer")) == 1
        assert s.scalar(select(func.count()).select_from(Message)) == 2


async def test_concurrent_retries_store_one_message(service, sessions):
    conv = await service.create_conversation(channel="app")
    results = await asyncio.gather(
        *(service.post_customer_message(conv.id, "retry me", client_message_id="same") for _ in range(8))
    )
    assert len({r.message.id for r in results}) == 1
    with sessions() as s:
        customer = s.scalar(select(func.count()).select_from(Message).where(Message.sender == "customer"))
        bot = s.scalar(select(func.count()).select_from(Message).where(Message.sender == "bot"))
    assert (customer, bot) == (1, 1)


async def test_concurrent_messages_never_share_a_sequence_number(service, sessions):
    conv = await service.create_conversation(channel="web")
    await asyncio.gather(*(service.post_customer_message(conv.id, f"message {i}") for i in range(12)))
    with sessions() as s:
        seqs = sorted(s.scalars(select(Message.seq).where(Message.conversation_id == conv.id)))
    # Every message got its own number with no gaps (the bot may hand over and fall silent).
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 12


async def test_a_stored_message_without_reply_is_answered_on_retry(service, sessions):
    """A crash after storing the message but before replying: the retry finishes the work."""
    conv = await service.create_conversation(channel="web", language="en")
    stored = service._turns._store(conv.id, "are you there", "crash-1", utcnow())
    assert stored.replies == ()
    result = await service.post_customer_message(conv.id, "are you there", client_message_id="crash-1")
    assert result.duplicate is True
    assert result.message.id == stored.message.id
    assert len(result.replies) == 1
    assert result.replies[0].text.isascii()


async def test_bad_input_is_rejected_and_nothing_is_lost(service, sessions):
    conv = await service.create_conversation(channel="web")
    await service.post_customer_message(conv.id, "first")
    with pytest.raises(MessageTooLongError):
        await service.post_customer_message(conv.id, "x" * 201)
    with pytest.raises(EmptyMessageError):
        await service.post_customer_message(conv.id, "   \n")
    with pytest.raises(ConversationNotFoundError):
        await service.post_customer_message("no-such-id", "hi")
    with pytest.raises(CustomerNotFoundError):
        await service.create_conversation(channel="web", customer_ref="NOPE")
    assert [m.text for m in await service.list_messages(conv.id) if m.sender == "customer"] == ["first"]


async def test_closed_conversations_refuse_messages(service, sessions):
    conv = await service.create_conversation(channel="web")
    with transaction(sessions) as s:
        row = s.get(Conversation, conv.id)
        assert row is not None
        row.state = "closed"
    with pytest.raises(ConversationClosedError) as err:
        await service.post_customer_message(conv.id, "hello")
    assert err.value.code == "conversation_closed"


async def test_one_customer_across_channels(service, sessions):
    from helixdesk.bank.importer import import_bank_file
    from helixdesk.bank.seed import build_demo_bank

    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(2))
    web = await service.create_conversation(channel="web", customer_ref="C000001")
    app = await service.create_conversation(channel="app", customer_ref="C000001")
    with sessions() as s:
        ids = {s.get(Conversation, c.id).customer_id for c in (web, app)}  # type: ignore[union-attr]
    assert len(ids) == 1
    assert web.customer_ref == app.customer_ref == "C000001"
    assert web.language in ("zh-Hans", "zh-Hant", "en")
