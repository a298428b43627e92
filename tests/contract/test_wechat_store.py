"""The WeChat channel's storage on SQLite and PostgreSQL: one row per openid, messages stored once per
WeChat id, deliveries taken once, and agents' messages sent out once by the durable consumer (a
restart resends nothing; a failed send is retried)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from helixdesk.audit import AuditLog
from helixdesk.audit.models import AuditLogRow
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.relay import OutboxRelay
from helixdesk.channels.wechat.api import ApiAccount, WeChatApi
from helixdesk.channels.wechat.binding import Binder, Rebound
from helixdesk.channels.wechat.channel import WeChatAccount
from helixdesk.channels.wechat.errors import WeChatApiError
from helixdesk.channels.wechat.models import WeChatDelivery, WeChatUser
from helixdesk.channels.wechat.outbound import outbound_consumer
from helixdesk.channels.wechat.store import WeChatStore
from helixdesk.conversations.models import Conversation, Customer, Message, Sender
from helixdesk.conversations.writer import ConversationWriter, NewMessage
from helixdesk.db.session import reading, transaction
from helixdesk.identity import VerificationService, load_identity_policy
from helixdesk.notifications import OutboxNotifier, list_outbox
from helixdesk.notifications.models import OutboxMessage
from helixdesk.privacy.crypto import Keyring, generate_key
from helixdesk.privacy.transcripts import TranscriptPrivacy
from tests.bankfiles import three_customers
from tests.wechat_sim import fake_wechat_api


def _conversation(sessions, channel: str = "wechat") -> str:
    with transaction(sessions) as s:
        customer = Customer()
        s.add(customer)
        s.flush()
        conv = Conversation(customer_id=customer.id, channel=channel, state="with_agent")
        s.add(conv)
        s.flush()
        return conv.id


def _agent_says(sessions, writer, conversation_id: str, text: str) -> str:
    with transaction(sessions) as s:
        conv = writer.lock(s, conversation_id)
        done = writer.append(s, conv, NewMessage(sender=Sender.AGENT, text=text))
        return done.message.id


def test_openids_and_messages_are_stored_once(sessions):
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    store = WeChatStore(sessions=sessions, writer=writer)
    user = store.user("mp", "o-one")
    assert store.user("mp", "o-one").id == user.id and store.user("work", "o-one").id != user.id
    conversation_id = _conversation(sessions)
    assert store.set_conversation(user.id, None, conversation_id)
    assert not store.set_conversation(user.id, None, "another")  # another request was first
    again = store.user("mp", "o-one")
    assert again.conversation_id == conversation_id and again.conversation_open

    out, repeat = store.store_with_ack(
        conversation_id,
        sender=Sender.CUSTOMER,
        text="[图片]",
        meta={"wechat": {"media_id": "M1"}},
        client_message_id="wx:1",
        ack="ok",
        always_ack=True,
    )
    assert not repeat and [o.text for o in out] == ["ok"]
    out2, repeat = store.store_with_ack(
        conversation_id,
        sender=Sender.CUSTOMER,
        text="[图片]",
        meta={},
        client_message_id="wx:1",
        ack="ok",
        always_ack=True,
    )
    assert repeat and out2 == out
    assert store.seen(conversation_id, "wx:1") == out and store.seen(conversation_id, "wx:2") is None
    with reading(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 2

    message_id = out[0].message_id
    assert message_id is not None
    assert store.take(message_id, conversation_id, "passive") is None
    assert store.take(message_id, conversation_id, "api") == "passive"
    store.release(message_id)
    assert store.take(message_id, conversation_id, "api") is None


async def test_agents_messages_go_out_once_across_restarts_and_failures(sessions):
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    store = WeChatStore(sessions=sessions, writer=writer)
    wechat_conv, web_conv = _conversation(sessions), _conversation(sessions, "web")
    user = store.user("mp", "o-agent")
    store.set_conversation(user.id, None, wechat_conv)
    relay = OutboxRelay(sessions=sessions, bus=MemoryEventBus())

    with fake_wechat_api() as fake:
        api = WeChatApi(ApiAccount("mp", "wxAPP", "secret", fake.url))
        accounts = {"mp": WeChatAccount(kind="mp", app_id="wxAPP", token="t", crypto=None, api=api)}
        first = _agent_says(sessions, writer, wechat_conv, "您好，我是客服小李。")
        _agent_says(sessions, writer, web_conv, "web only")
        await relay.flush()
        consumer = outbound_consumer(sessions, accounts, store)
        await consumer.catch_up()
        await consumer.stop()
        assert [(m["touser"], m["text"]["content"]) for m in fake.messages] == [
            ("o-agent", "您好，我是客服小李。")
        ]

        # WeChat is busy for the next one: the batch fails, nothing is recorded, a retry sends it.
        second = _agent_says(sessions, writer, wechat_conv, "请稍等。")
        await relay.flush()
        fake.fail_next, fake.fail_code = 1, -1
        failing = outbound_consumer(sessions, accounts, store)
        with pytest.raises(WeChatApiError):
            await failing.catch_up()
        await failing.stop()
        with reading(sessions) as s:
            assert s.get(WeChatDelivery, second) is None
        restarted = outbound_consumer(sessions, accounts, store)
        await restarted.catch_up()
        await restarted.catch_up()
        await restarted.stop()
        assert [m["text"]["content"] for m in fake.messages] == ["您好，我是客服小李。", "请稍等。"]
        assert len(fake.token_calls) == 1  # the access token is cached
        with reading(sessions) as s:
            assert set(s.scalars(select(WeChatDelivery.message_id))) == {first, second}

        # WeChat refuses one for good (out of its window): it is not tried again, and it does not
        # hold up the next one, which is long and goes in parts.
        refused = _agent_says(sessions, writer, wechat_conv, "这条发不出去。")
        long = "账单说明。" * 200  # 3,000 bytes of UTF-8: two messages of at most 2,048
        _agent_says(sessions, writer, wechat_conv, long)
        await relay.flush()
        fake.fail_next, fake.fail_code = 1, 45015
        after = outbound_consumer(sessions, accounts, store)
        await after.catch_up()
        await after.catch_up()
        await after.stop()
        sent = [m["text"]["content"] for m in fake.messages]
        assert "这条发不出去。" not in sent
        assert sent[2:] and "".join(sent[2:]) == long and all(len(p.encode()) <= 2048 for p in sent[2:])
        with reading(sessions) as s:
            assert s.get(WeChatDelivery, refused) is not None  # taken once: never sent twice
    await relay.stop()


def test_binding_and_unbinding_an_openid(sessions):

    secret = b"wechat-binding-secret-0123456789abcdef"
    keyring = Keyring.parse(generate_key("wechat"))
    with transaction(sessions) as s:
        import_bank_file(s, three_customers())
    audit = AuditLog(key=secret)
    identity = VerificationService(
        sessions=sessions,
        notifier=OutboxNotifier(sessions=sessions, keyring=keyring),
        bank=DemoBankConnector(session_factory=sessions),
        policy=load_identity_policy(),
        secret=secret,
        audit=audit,
    )
    store = WeChatStore(sessions=sessions, writer=ConversationWriter(privacy=TranscriptPrivacy()))
    binder = Binder(
        sessions=sessions,
        store=store,
        identity=identity,
        bank=DemoBankConnector(session_factory=sessions),
        audit=audit,
    )
    conversation_id = _conversation(sessions)
    user = store.user("mp", "o-bind")
    store.set_conversation(user.id, None, conversation_id)

    def turn(text: str, key: str):  # type: ignore[no-untyped-def]
        turned = binder.turn(store.user("mp", "o-bind"), conversation_id, text, key, "en")
        if turned.send_code is not None:
            binder.send_code(turned.send_code)  # the channel sends it beside the answer
        return turned.out, turned.bound

    out, change = turn("bind", "wx:1")
    assert change is None and "customer number" in out[0].text
    out, change = turn("C000001", "wx:2")
    assert change is None and "code was sent" in out[0].text
    assert turn("C000001", "wx:2") == (out, None)  # a retry: the same answer, no second code
    assert len(list_outbox(sessions, keyring, customer_ref="C000001", limit=10)) == 1
    code = re.search(r"\d{6}", list_outbox(sessions, keyring, customer_ref="C000001", limit=1)[0].body)
    assert code is not None
    out, change = turn(f"my code is {code.group()}", "wx:3")
    assert change == Rebound("C000001") and "linked" in out[0].text
    out, change = turn("unbind", "wx:4")
    assert change == Rebound(None)
    with reading(sessions) as s:
        assert s.scalar(select(WeChatUser.customer_ref).where(WeChatUser.openid == "o-bind")) is None
        actions = list(s.scalars(select(AuditLogRow.action).where(AuditLogRow.customer_ref == "C000001")))
        texts = list(s.scalars(select(Message.text).where(Message.conversation_id == conversation_id)))
    assert "wechat.bound" in actions and "wechat.unbound" in actions and "identity.verified" in actions
    assert code.group() not in " ".join(texts)  # the code is masked in the transcript


def test_binding_by_the_phone_number_on_file(sessions):
    secret = b"wechat-binding-secret-0123456789abcdef"
    keyring = Keyring.parse(generate_key("wechat"))
    with transaction(sessions) as s:
        import_bank_file(s, three_customers())
    audit = AuditLog(key=secret)
    bank = DemoBankConnector(session_factory=sessions)
    identity = VerificationService(
        sessions=sessions,
        notifier=OutboxNotifier(sessions=sessions, keyring=keyring),
        bank=bank,
        policy=load_identity_policy(),
        secret=secret,
        audit=audit,
    )
    store = WeChatStore(sessions=sessions, writer=ConversationWriter(privacy=TranscriptPrivacy()))
    binder = Binder(sessions=sessions, store=store, identity=identity, bank=bank, audit=audit)
    conversation_id = _conversation(sessions)
    user = store.user("mp", "o-phone")
    store.set_conversation(user.id, None, conversation_id)

    def turn(text: str, key: str, openid: str = "o-phone"):  # type: ignore[no-untyped-def]
        user = store.user("mp", openid)
        assert user.conversation_id is not None
        turned = binder.turn(user, user.conversation_id, text, key, "zh-Hans")
        if turned.send_code is not None:
            binder.send_code(turned.send_code)
        return turned.out, turned.bound

    turn("绑定", "wx:1")
    assert "不像" in turn("我不知道", "wx:2")[0][0].text
    out, _ = turn("159 0000 1111", "wx:3")  # C000003's phone, as a customer types it
    assert "验证码已发送" in out[0].text
    sent = list_outbox(sessions, keyring, customer_ref="C000003", limit=1)
    code = re.search(r"\d{6}", sent[0].body)
    assert code is not None
    _, change = turn(code.group(), "wx:4")
    assert change == Rebound("C000003")
    # A number nobody has gets the same answer, and no code goes anywhere.
    other = store.user("mp", "o-nobody")
    store.set_conversation(other.id, None, _conversation(sessions))
    assert bank.find_by_phone("+8613000000000") is None
    with reading(sessions) as s:
        before = s.scalar(select(func.count()).select_from(OutboxMessage))
    turn("绑定", "wx:5", "o-nobody")
    out, _ = turn("+86 130 0000 0000", "wx:6", "o-nobody")
    assert "验证码已发送" in out[0].text
    with reading(sessions) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == before


def test_phone_numbers_as_customers_type_them():
    from helixdesk.channels.wechat.binding import e164

    assert e164("138 1234 5678") == "+8613812345678"
    assert e164("+86 138-1234-5678") == "+8613812345678"
    assert e164("8613812345678") == "+8613812345678"
    assert e164("＋852 9123 4567") == "+85291234567"
    assert e164("C000001") is None and e164("12345") is None and e164("123456") is None


def test_known_and_unknown_numbers_get_the_same_answers_even_on_a_second_try(sessions):
    """Two openids try a number within the identity policy's resend interval, then wrong codes:
    a known number and a number nobody has get the same answer at every step, and the known
    customer gets one code (the second openid's is not sent: too soon)."""
    secret = b"wechat-binding-secret-0123456789abcdef"
    keyring = Keyring.parse(generate_key("wechat"))
    with transaction(sessions) as s:
        import_bank_file(s, three_customers())
    audit = AuditLog(key=secret)
    bank = DemoBankConnector(session_factory=sessions)
    identity = VerificationService(
        sessions=sessions,
        notifier=OutboxNotifier(sessions=sessions, keyring=keyring),
        bank=bank,
        policy=load_identity_policy(),
        secret=secret,
        audit=audit,
    )
    assert identity.policy.resend_interval_seconds > 0 and identity.policy.max_attempts_per_code == 3
    store = WeChatStore(sessions=sessions, writer=ConversationWriter(privacy=TranscriptPrivacy()))
    binder = Binder(sessions=sessions, store=store, identity=identity, bank=bank, audit=audit)

    def exchange(openid: str, number: str) -> list[str]:
        user = store.user("mp", openid)
        store.set_conversation(user.id, None, _conversation(sessions))
        said = []
        for i, text in enumerate(["绑定", number, "000000", "111111", "222222"]):
            user = store.user("mp", openid)
            assert user.conversation_id is not None
            turned = binder.turn(user, user.conversation_id, text, f"wx:{openid}:{i}", "zh-Hans")
            if turned.send_code is not None:
                binder.send_code(turned.send_code)
            said.append(" / ".join(o.text for o in turned.out))
        return said

    assert bank.find_by_phone("+8615900001111") is not None  # C000003's phone
    assert bank.find_by_phone("+8613000000000") is None
    known = [exchange(f"o-known-{i}", "159 0000 1111") for i in (1, 2)]
    unknown = [exchange(f"o-unknown-{i}", "130 0000 0000") for i in (1, 2)]
    assert known[0] == known[1] == unknown[0] == unknown[1]
    assert "验证码已发送" in known[0][1] and "还可以再试 2 次" in known[0][2] and "绑定未完成" in known[0][4]
    assert len(list_outbox(sessions, keyring, customer_ref="C000003", limit=10)) == 1
    with reading(sessions) as s:
        assert (
            s.scalars(select(WeChatUser.customer_ref).where(WeChatUser.customer_ref.is_not(None))).all() == []
        )


async def test_an_agents_message_goes_to_the_conversations_own_openid_after_it_moved_on(sessions):
    """The openid bound (or unbound) meanwhile and now points at a new conversation: the agent's
    message in the earlier one still reaches that openid (it used to be dropped)."""
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    store = WeChatStore(sessions=sessions, writer=writer)
    earlier, later = _conversation(sessions), _conversation(sessions)
    user = store.user("mp", "o-moved")
    assert store.set_conversation(user.id, None, earlier)
    assert store.set_conversation(user.id, earlier, later)  # bound: the next messages go to `later`
    assert store.user("mp", "o-moved").conversation_id == later
    relay = OutboxRelay(sessions=sessions, bus=MemoryEventBus())
    with fake_wechat_api() as fake:
        api = WeChatApi(ApiAccount("mp", "wxAPP", "secret", fake.url))
        accounts = {"mp": WeChatAccount(kind="mp", app_id="wxAPP", token="t", crypto=None, api=api)}
        message_id = _agent_says(sessions, writer, earlier, "您刚才问的问题已经处理好了。")
        _agent_says(sessions, writer, later, "欢迎回来。")
        await relay.flush()
        consumer = outbound_consumer(sessions, accounts, store)
        await consumer.catch_up()
        await consumer.stop()
        assert [(m["touser"], m["text"]["content"]) for m in fake.messages] == [
            ("o-moved", "您刚才问的问题已经处理好了。"),
            ("o-moved", "欢迎回来。"),
        ]
    with reading(sessions) as s:
        assert (
            s.scalar(select(WeChatDelivery.conversation_id).where(WeChatDelivery.message_id == message_id))
            == earlier
        )
    await relay.stop()
