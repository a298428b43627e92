"""The social channel's storage on SQLite and PostgreSQL: one row per platform and author, deliveries
taken once, and the bot's and agents' messages sent to a local fake platform once by the durable
consumer (signed; a restart resends nothing; a busy platform is retried, a refusal is not)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.outbox import read_log
from helixdesk.bus.relay import OutboxRelay
from helixdesk.channels.social.config import load_platforms
from helixdesk.channels.social.errors import SocialOutboundError
from helixdesk.channels.social.models import SocialAuthor, SocialDelivery
from helixdesk.channels.social.outbound import MessagesOut, outbound_consumer
from helixdesk.channels.social.store import SocialStore
from helixdesk.conversations.models import Conversation, Customer, Sender
from helixdesk.conversations.writer import ConversationWriter, NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.events import MessageData, MessageSent
from helixdesk.db.session import reading, transaction
from helixdesk.privacy.transcripts import TranscriptPrivacy
from tests.social_sim import EXAMPLE, environ, fake_platform


def _conversation(sessions, channel: str = "social", state: str = "bot") -> str:
    with transaction(sessions) as s:
        customer = Customer()
        s.add(customer)
        s.flush()
        conv = Conversation(customer_id=customer.id, channel=channel, state=state)
        s.add(conv)
        s.flush()
        return conv.id


def _says(sessions, writer, conversation_id: str, sender: Sender, text: str) -> str:
    with transaction(sessions) as s:
        conv = writer.lock(s, conversation_id)
        return writer.append(s, conv, NewMessage(sender=sender, text=text)).message.id


def test_authors_and_deliveries_are_stored_once(sessions):
    store = SocialStore(sessions=sessions)
    first = store.author("weibo", "5612345678", "小明", None)
    assert first.conversation_id is None and not first.conversation_open
    assert store.author("weibo", "5612345678", None, None).id == first.id
    assert store.author("messenger", "5612345678", None, None).id != first.id  # another platform
    conversation_id = _conversation(sessions)
    assert store.set_conversation(first.id, None, conversation_id)
    assert not store.set_conversation(first.id, None, "another")  # another request was first
    again = store.author("weibo", "5612345678", "小明2", "T-9")
    assert again.conversation_id == conversation_id and again.conversation_open
    with reading(sessions) as s:
        row = s.get(SocialAuthor, first.id)
        assert row is not None and (row.author_name, row.reply_to) == ("小明2", "T-9")
        recipients = store.recipients(s, [conversation_id, "not-social"])
    assert set(recipients) == {conversation_id} and recipients[conversation_id].author_id == "5612345678"

    with transaction(sessions) as s:
        s.execute(update(Conversation).where(Conversation.id == conversation_id).values(state="closed"))
    assert not store.author("weibo", "5612345678", None, None).conversation_open

    assert store.take("m-1", conversation_id) and not store.take("m-1", conversation_id)
    store.release("m-1")
    assert store.take("m-1", conversation_id)


async def test_replies_and_agents_messages_go_out_once_across_restarts_and_failures(sessions):
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    store = SocialStore(sessions=sessions)
    relay = OutboxRelay(sessions=sessions, bus=MemoryEventBus())
    weibo_conv, messenger_conv, web_conv = (
        _conversation(sessions),
        _conversation(sessions),
        _conversation(sessions, "web"),
    )
    for platform, author, conv in (
        ("weibo", "5612345678", weibo_conv),
        ("messenger", "P-77", messenger_conv),
    ):
        row = store.author(platform, author, "小明" if platform == "weibo" else None, "PAGE-1")
        store.set_conversation(row.id, None, conv)

    with fake_platform() as fake:
        platforms = load_platforms(EXAMPLE, environ(f"{fake.url}/weibo", f"{fake.url}/messenger"))

        def consumer():  # type: ignore[no-untyped-def]
            out = MessagesOut({n: p.outbound for n, p in platforms.items()}, store)
            return out, outbound_consumer(sessions, out)

        _says(sessions, writer, weibo_conv, Sender.CUSTOMER, "信用卡年费怎么收？")  # not sent out
        reply = _says(sessions, writer, weibo_conv, Sender.BOT, "年费为每年200元。")
        _says(sessions, writer, weibo_conv, Sender.SYSTEM, "[agent joined]")  # not sent out
        agent = _says(sessions, writer, messenger_conv, Sender.AGENT, "Hello, this is Li.")
        _says(sessions, writer, web_conv, Sender.BOT, "web only")
        await relay.flush()
        out, first = consumer()
        await first.catch_up()
        await first.stop()
        assert out.sent == 2 and not fake.bad
        weibo, messenger = fake.received
        assert weibo["path"] == "/weibo" and weibo["idempotency_key"] == reply
        assert weibo["body"] == {
            "receiver_id": "5612345678",
            "type": "text",
            "data": {"text": "年费为每年200元。"},
            "client_msg_id": reply,
        }
        assert messenger["body"] == {
            "recipient": {"id": "P-77"},
            "messaging_type": "RESPONSE",
            "message": {"text": "Hello, this is Li."},
        }
        assert messenger["idempotency_key"] == agent

        # The same events again (a restart before the offset moved): nothing is sent twice.
        again_out = MessagesOut({n: p.outbound for n, p in platforms.items()}, store)
        with reading(sessions) as s:
            again_out.send(s, read_log(s, after_seq=0, limit=100))
        assert again_out.sent == 0 and len(fake.received) == 2

        # The platform is busy: the batch fails, the message is given back, a retry sends it.
        busy = _says(sessions, writer, weibo_conv, Sender.BOT, "请稍等。")
        await relay.flush()
        fake.fail_next, fake.fail_status = 1, 503
        _, failing = consumer()
        with pytest.raises(SocialOutboundError):
            await failing.catch_up()
        await failing.stop()
        with reading(sessions) as s:
            assert s.get(SocialDelivery, busy) is None
        _, restarted = consumer()
        await restarted.catch_up()
        await restarted.stop()
        assert [r["body"]["data"]["text"] for r in fake.received if r["path"] == "/weibo"] == [
            "年费为每年200元。",
            "请稍等。",
        ]

        # A refusal for good (400) is not tried again and does not hold up the next message.
        refused = _says(sessions, writer, messenger_conv, Sender.AGENT, "This one is refused.")
        _says(sessions, writer, messenger_conv, Sender.AGENT, "This one goes.")
        await relay.flush()
        fake.fail_next, fake.fail_status = 1, 400
        out, after = consumer()
        await after.catch_up()
        await after.catch_up()
        await after.stop()
        assert out.refused == 1 and out.sent == 1
        texts = [r["body"]["message"]["text"] for r in fake.received if r["path"] == "/messenger"]
        assert texts == ["Hello, this is Li.", "This one goes."]
        with reading(sessions) as s:
            assert s.get(SocialDelivery, refused) is not None  # taken once: never sent twice

        # A message older than the platform's reply window is not sent.
        late = MessageSent(
            conversation_id=messenger_conv,
            message=MessageData(
                id="m-late",
                conversation_id=messenger_conv,
                seq=99,
                sender="agent",
                text="Too late.",
                created_at=utcnow() - timedelta(hours=24, minutes=1),
            ),
        )
        out = MessagesOut({n: p.outbound for n, p in platforms.items()}, store)
        with reading(sessions) as s:
            out.send(s, [late])
        assert out.sent == 0 and len(fake.received) == 4 and not fake.bad
        with reading(sessions) as s:
            assert s.get(SocialDelivery, "m-late") is None
            assert (
                s.scalar(select(SocialDelivery.message_id).where(SocialDelivery.message_id == reply)) == reply
            )
    await relay.stop()


async def test_an_unreachable_platform_is_retried(sessions):
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    store = SocialStore(sessions=sessions)
    relay = OutboxRelay(sessions=sessions, bus=MemoryEventBus())
    conv = _conversation(sessions)
    store.set_conversation(store.author("messenger", "P-1", None, None).id, None, conv)
    # Port 9 (discard) on the loopback: nothing listens, the connection is refused.
    platforms = load_platforms(EXAMPLE, environ("http://127.0.0.1:9/weibo", "http://127.0.0.1:9/messenger"))
    message = _says(sessions, writer, conv, Sender.AGENT, "Hello")
    await relay.flush()
    out = MessagesOut({n: p.outbound for n, p in platforms.items()}, store)
    consumer = outbound_consumer(sessions, out)
    with pytest.raises(SocialOutboundError, match="could not be reached"):
        await consumer.catch_up()
    await consumer.stop()
    with reading(sessions) as s:
        assert s.get(SocialDelivery, message) is None  # given back: the next run tries again
    await relay.stop()
