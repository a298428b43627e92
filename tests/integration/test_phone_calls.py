"""Phone calls end to end: a fake Asterisk calls the real AudioSocket server over TCP; the caller's
speech (espeak-ng, 8 kHz) goes through the real voice activity detection and recogniser, the choice
or words through the real turn (NLU, bot, handoff), and the bot's speech comes back in 20 ms frames.

Each recognition takes seconds on two cores: the calls say little (three utterances in all)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.channels.phone.call import CHANNEL
from helixdesk.channels.phone.server import PhoneServer
from helixdesk.conversations.models import Conversation, Message
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.handoff.models import Handoff
from tests.voice_sim import FakeAsterisk, spoken

pytestmark = pytest.mark.slow


@pytest.fixture
async def phone(sqlite_url, make_conversations):
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    container = make_conversations(sessions, MemoryEventBus(), voice_min_confidence=0.15)
    server = PhoneServer(container.phone, host="127.0.0.1", port=0)
    await server.start()
    try:
        yield server, container, sessions
    finally:
        await server.stop()
        engine.dispose()


async def until(server: PhoneServer, call_id: str, done) -> None:  # type: ignore[no-untyped-def]
    """Until the call waits for the caller and `done(record)` holds."""
    for _ in range(2400):
        call = next((c for c in server.active if c.record.call_id == call_id), None)
        if call is not None and call.waiting and done(call.record):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"call {call_id} never got there")


async def _record(server: PhoneServer, call_id: str):  # type: ignore[no-untyped-def]
    for _ in range(200):
        found = [r for r in server.finished if r.call_id == call_id]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"call {call_id} did not end")


async def test_a_mandarin_call_chooses_by_key_and_is_handed_to_a_person_with_its_transcript(phone):
    server, container, sessions = phone
    async with FakeAsterisk("127.0.0.1", server.port) as caller:
        await caller.bot_speaking()
        await caller.key("1")  # during the greeting: it stops at once
        await until(server, caller.call_id, lambda r: r.choices)  # the bot answered the balance request
        await caller.say(spoken("转人工客服", "zh-Hans"))
        hold = container.phone.menu.prompt("hold", "zh-Hans")
        await until(server, caller.call_id, lambda r: r.said[-1] == hold)
    record = await _record(server, caller.call_id)

    assert record.error is None
    assert record.choices == ["balance:key"]
    assert record.interruptions >= 1
    greeting = container.phone.menu.prompt("greeting", "zh-Hans")
    assert record.said[0] == greeting and record.said[1] != container.phone.menu.prompt("greeting", "en")
    assert record.said[-1] == container.phone.menu.prompt("hold", "zh-Hans")

    # The console's queue has the call, with everything the caller said.
    with reading(sessions) as s:
        conv = s.get(Conversation, record.conversation_id)
        assert conv is not None and conv.channel == CHANNEL == "voice"
        assert conv.state == "waiting_for_agent"
        assert s.scalar(select(Handoff).where(Handoff.conversation_id == conv.id)) is not None
        said = s.scalars(
            select(Message)
            .where(Message.conversation_id == conv.id, Message.sender == "customer")
            .order_by(Message.seq)
        ).all()
    assert said[0].text == "我想查询账户余额"
    assert "人工" in said[1].text
    voice = said[1].meta["voice"]
    assert voice["call_id"] == caller.call_id and voice["confidence"] >= 0.15
    assert said[1].client_message_id == f"{caller.call_id}:2"
    seen = await container.conversations.list_messages(conv.id)
    assert [m.voice is not None for m in seen if m.sender == "customer"] == [False, True]


async def test_an_english_caller_chooses_by_voice_over_the_greeting(phone):
    server, container, sessions = phone
    async with FakeAsterisk("127.0.0.1", server.port) as caller:
        await caller.bot_speaking()
        await caller.say(spoken("Balance, please.", "en"))  # over the greeting: barge-in
        await until(server, caller.call_id, lambda r: r.choices)
    record = await _record(server, caller.call_id)

    assert record.choices == ["balance:speech"]
    assert record.language == "en"
    assert record.interruptions >= 1
    # The Mandarin greeting was cut short: far fewer frames than its length came back before the answer.
    full = len(container.phone.synthesizer.synthesize(record.said[0], "zh-Hans", 8000))
    assert len(caller.bot_audio) < full + len(
        container.phone.synthesizer.synthesize(record.said[-1], "en", 8000)
    )
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in record.said[1:])
    with reading(sessions) as s:
        message = s.scalar(
            select(Message).where(
                Message.conversation_id == record.conversation_id, Message.sender == "customer"
            )
        )
    assert message is not None and message.text == "I want to check my account balance"
    assert message.meta["voice"]["menu"] == "balance"
    assert "balance" in message.meta["voice"]["heard"].lower()


async def test_a_malformed_frame_ends_the_call_and_keeps_what_was_stored(phone):
    server, _container, sessions = phone
    async with FakeAsterisk("127.0.0.1", server.port) as caller:
        await caller.bot_speaking()
        await caller.key("4")
        await until(server, caller.call_id, lambda r: r.choices)
        await caller.raw(b"\x7f\x00\x01x")  # no such kind
        await caller.ended()
    record = await _record(server, caller.call_id)
    assert record.error == "audiosocket_unknown_kind"
    assert caller.hung_up_by_bot
    with reading(sessions) as s:
        texts = s.scalars(select(Message.text).where(Message.conversation_id == record.conversation_id)).all()
    assert "我的银行卡丢了，要挂失" in texts and len(texts) >= 2
