"""The conversation service stores transcripts masked (SQLite and PostgreSQL).

The bot works on the raw text in memory; what is written (messages, the NLU record, dialogue
state, action audit, events) is masked, and the raw values go to the vault.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from helixdesk.actions.models import ActionAudit
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.conversations.models import Message
from helixdesk.conversations.turn_context import turn_context
from helixdesk.core.clock import utcnow
from helixdesk.core.events import MessageReceived
from helixdesk.core.turn import Turn
from helixdesk.db.session import transaction
from helixdesk.dialogue.bot import BotTurn
from helixdesk.dialogue.decide import Decision
from helixdesk.dialogue.executor import TurnEffects
from helixdesk.dialogue.state import DialogueState, DialogueStateRow
from helixdesk.nlg.replies import Reply
from helixdesk.notifications import list_outbox
from helixdesk.privacy import SECRET_MASK
from helixdesk.privacy.models import PiiValue
from tests.events import collect_events

CARD = "4111 1111 1111 1111"


@pytest.fixture
def bus():
    return MemoryEventBus()


@pytest.fixture
def desk(sessions, bus, make_conversations):
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(3))
    # A turn's claim lasts a second here, so a retry after a simulated crash is answered quickly.
    return make_conversations(sessions, bus, max_message_chars=500, turn_lease_seconds=1)


@pytest.fixture
def service(desk):
    return desk.conversations


async def test_a_card_number_is_masked_in_the_message_the_nlu_record_and_the_vault(
    desk, service, sessions, bus
):
    events = await collect_events(bus)
    conv = await service.create_conversation(channel="web", language="en")
    result = await service.post_customer_message(conv.id, f"someone used my card {CARD} in Paris")
    assert result.message.text == "someone used my card **** **** **** 1111 in Paris"
    await desk.settle()
    received = [e for e in events if isinstance(e, MessageReceived)]
    assert [e.message.text for e in received] == [result.message.text]
    with sessions() as s:
        msg = s.get_one(Message, result.message.id)
        vault = s.scalars(select(PiiValue).where(PiiValue.message_id == msg.id)).all()
    nlu = msg.meta["nlu"]
    assert nlu["text"] == msg.text and "4111" not in json.dumps(msg.meta)
    assert len(nlu["normalized"]) == len(msg.text)
    for entity in nlu["entities"]:
        assert msg.text[entity["start"] : entity["end"]] == entity["text"]
    assert msg.meta["pii"] == ["card_number"]
    assert [(v.type, v.masked, v.ciphertext.startswith("hx1:test:")) for v in vault] == [
        ("card_number", "**** **** **** 1111", True)
    ]
    await bus.stop()


async def test_a_one_time_code_is_never_stored_not_even_before_the_bot_reads_it(
    desk, service, sessions, bus, keyring
):
    events = await collect_events(bus)
    conv = await service.create_conversation(channel="web", customer_ref="C000001")
    await service.post_customer_message(conv.id, "帮我查一下余额")
    body = list_outbox(sessions, keyring, customer_ref="C000001", limit=1)[0].body
    code = re.findall(r"(?<!\d)(\d{6})(?!\d)", body)[0]
    answered = await service.post_customer_message(conv.id, code)
    await desk.settle()
    # The message event is published before the bot's turn: it already carries the mask.
    received = [e.message.text for e in events if isinstance(e, MessageReceived)]
    assert received == ["帮我查一下余额", SECRET_MASK]
    assert answered.message.text == SECRET_MASK
    accounts = DemoBankConnector(session_factory=sessions).list_accounts("C000001")
    said = "".join(r.text for r in answered.replies)
    assert accounts and all(a.number[-4:] in said for a in accounts)  # the balance reply names the tails
    with sessions() as s:
        msg = s.get_one(Message, answered.message.id)
        state = s.get_one(DialogueStateRow, conv.id).data
        audit = s.scalars(select(ActionAudit.input_json)).all()
        kept = s.scalars(select(PiiValue).where(PiiValue.message_id == msg.id)).all()
    assert msg.meta["redacted"] == "one_time_code" and "text" not in msg.meta["nlu"] and kept == []
    # The balance result sits in the dialogue state with account numbers masked to their tail.
    dumped = json.dumps(state, ensure_ascii=False) + json.dumps(audit, ensure_ascii=False)
    assert accounts and all(a.number not in dumped for a in accounts)
    assert f"****{accounts[0].number[-4:]}" in dumped
    assert code not in dumped
    await bus.stop()


async def test_bot_replies_are_stored_masked(desk, service, sessions):
    """A reply that echoes a number (a template or an LLM could) is masked like a customer message."""
    conv = await service.create_conversation(channel="web", language="en")
    turns = service._turns
    now = utcnow()
    stored = turns._store(conv.id, "which card?", None, now)
    assert stored.context is not None
    ctx = turn_context(
        stored.context,
        conversation_id=conv.id,
        message_id=stored.message.id,
        bank=turns._bank,
        identity=turns._identity,
        now=now,
    )
    result = BotTurn(
        turn=Turn(text="which card?"),
        decision=Decision(state=DialogueState(), says=(), language="en", style="warm"),
        replies=(Reply(text=f"Your card {CARD} is blocked."),),
        effects=TurnEffects(),
    )
    replies, _meta, _handoff = turns._recorder.store(stored, ctx, result)
    assert [r.text for r in replies] == ["Your card **** **** **** 1111 is blocked."]
    with sessions() as s:
        kept = s.scalars(select(PiiValue.type).where(PiiValue.message_id == replies[0].id)).all()
    assert kept == ["card_number"]


async def test_a_retry_keeps_the_stricter_masking_of_the_first_write(service, sessions):
    """Stored while a code was expected, answered on a retry when it no longer was: still no code kept."""
    conv = await service.create_conversation(channel="web", language="en")
    with transaction(sessions) as s:
        task = {"intent": "balance_inquiry", "awaiting": "code"}
        s.add(DialogueStateRow(conversation_id=conv.id, data={"task": task}, version=1))
    stored = service._turns._store(conv.id, "4321", "retry-1", utcnow())  # then the process died
    assert stored.message.text == SECRET_MASK
    with transaction(sessions) as s:
        s.get_one(DialogueStateRow, conv.id).data = {}
    result = await service.post_customer_message(conv.id, "4321", client_message_id="retry-1")
    assert result.duplicate and result.replies
    with sessions() as s:
        msg = s.get_one(Message, stored.message.id)
    assert msg.text == SECRET_MASK and "4321" not in json.dumps(msg.meta)
