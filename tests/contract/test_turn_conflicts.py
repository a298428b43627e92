"""One turn of a conversation at a time, and an action runs once even when two turns collide.

The collision is forced for real: the first turn's worker stalls inside the card freeze (the core
bank holds it), its claim on the conversation runs out, and a second message takes the conversation
over and decides the same freeze. The freeze reaches the bank once; the stalled turn is not stored.
"""

from __future__ import annotations

import asyncio
import threading

import anyio
import pytest
from sqlalchemy import select, update

from helixdesk.actions.models import ActionAudit
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.conversations.errors import ConversationBusyError
from helixdesk.conversations.models import Conversation, Message
from helixdesk.core.clock import utcnow
from helixdesk.db.session import transaction
from helixdesk.notifications import list_outbox


class StallingBank(DemoBankConnector):
    """The demo core bank, whose card freeze waits until the test lets it go (a stalled worker)."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.entered = threading.Event()
        self.release = threading.Event()
        self.freezes = 0

    def set_card_status(self, customer_ref: str, last4: str, status: str):  # type: ignore[no-untyped-def]
        if status == "frozen":
            self.freezes += 1
            self.entered.set()
            assert self.release.wait(30), "the test never let the freeze go"
        return super().set_card_status(customer_ref, last4, status)


@pytest.fixture
def bank(sessions):
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(12, seed=5))
    return StallingBank(session_factory=sessions)


@pytest.fixture
def desk(sessions, bank, make_conversations):
    return make_conversations(sessions, MemoryEventBus(), parts={"bank": bank})


def _customer_with_a_card(bank: DemoBankConnector) -> tuple[str, str]:
    for i in range(1, 13):
        ref = f"C{i:06d}"
        cards = [c for c in bank.list_cards(ref) if c.status == "active"]
        customer = bank.get_customer(ref)
        if cards and customer is not None and customer.age(utcnow().date()) < 60:
            return ref, cards[0].last4
    raise AssertionError("the seeded bank has no customer under 60 with an active card")


async def _wait_until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(400):
        if await anyio.to_thread.run_sync(check):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting until {what}")


async def test_a_turn_that_loses_its_claim_mid_action_never_freezes_the_card_twice(
    desk, bank, sessions, keyring
):
    service = desk.conversations
    ref, last4 = _customer_with_a_card(bank)
    conv = await service.create_conversation(channel="app", customer_ref=ref, language="zh-Hans")
    # A lost card is frozen with no one-time code (the fast lane's protective freeze).
    asked = await service.post_customer_message(conv.id, f"我尾号{last4}的卡丢了")
    assert last4 in asked.replies[-1].text  # "freeze the card ending ...?"
    assert list_outbox(sessions, keyring, customer_ref=ref, limit=1) == []

    stalled = asyncio.create_task(service.post_customer_message(conv.id, "确认", client_message_id="a"))
    await anyio.to_thread.run_sync(bank.entered.wait, 30)
    # The stalled worker's claim runs out (as if its lease had expired) ...
    with transaction(sessions) as s:
        s.execute(update(Conversation).where(Conversation.id == conv.id).values(turn_expires_at=utcnow()))
    # ... and the customer's next message takes the conversation over and decides the same freeze.
    second = asyncio.create_task(service.post_customer_message(conv.id, "确认", client_message_id="b"))

    def taken_over() -> bool:
        with sessions() as s:
            claim = s.scalar(select(Conversation.turn_message_id).where(Conversation.id == conv.id))
            b = s.scalar(select(Message.id).where(Message.client_message_id == "b"))
        return b is not None and claim == b

    await _wait_until(taken_over, "the second message claims the conversation")
    bank.release.set()

    with pytest.raises(ConversationBusyError):
        await stalled
    answered = await second
    assert bank.freezes == 1
    assert [c.status for c in bank.list_cards(ref) if c.last4 == last4] == ["frozen"]
    assert len(answered.replies) >= 1 and last4 in answered.replies[0].text
    with sessions() as s:
        runs = sorted(s.scalars(select(ActionAudit.status).where(ActionAudit.action == "freeze_card")))
        replies_to_a = s.scalars(
            select(Message).where(
                Message.in_reply_to
                == select(Message.id).where(Message.client_message_id == "a").scalar_subquery()
            )
        ).all()
    assert runs == ["ok", "replayed"]  # the stalled run is audited too, and the second only replayed it
    assert replies_to_a == []  # the turn that lost its claim stored nothing


async def test_two_messages_at_once_are_answered_one_after_the_other(desk, sessions):
    service = desk.conversations
    conv = await service.create_conversation(channel="web", language="en")
    first, second = await asyncio.gather(
        service.post_customer_message(conv.id, "hello"),
        service.post_customer_message(conv.id, "what are your opening hours?"),
    )
    assert first.replies and second.replies
    with sessions() as s:
        rows = s.execute(
            select(Message.seq, Message.sender, Message.in_reply_to).where(Message.conversation_id == conv.id)
        ).all()
        claim = s.scalar(select(Conversation.turn_message_id).where(Conversation.id == conv.id))
    assert sorted(seq for seq, _, _ in rows) == list(range(1, len(rows) + 1))
    assert claim is None  # both turns released the conversation
