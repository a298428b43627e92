"""The conversation service gives the NLU the emotion of the customer's previous message, and the
emotion model weighs it in: a plain follow-up after a worried message leans towards the worry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.conversations.models import Message


@pytest.fixture
def bus():
    return MemoryEventBus()


async def test_a_follow_up_is_read_with_the_previous_messages_emotion(
    sessions, bus, make_conversations, nlu_pipeline
):
    service = make_conversations(sessions, bus).conversations
    conv = await service.create_conversation(channel="web", language="zh-Hans")
    worried = "我担心定期提前取出来会损失很多利息，好焦虑啊"
    follow_up = "会有影响吗"
    first_post = await service.post_customer_message(conv.id, worried)
    assert first_post.state == "bot", (first_post.state, first_post.handoff)
    posted = await service.post_customer_message(conv.id, follow_up)

    with sessions() as s:
        stored = s.scalars(
            select(Message).where(Message.conversation_id == conv.id, Message.sender == "customer")
        ).all()
        first, second = sorted(stored, key=lambda m: m.seq)
        assert second.id == posted.message.id
        before = first.meta["nlu"]["emotion"]
        after = second.meta["nlu"]["emotion"]
    alone = nlu_pipeline.parse(follow_up).emotion
    assert before["label"] == "fear" and before["intensity"] > 0.3
    # The same words on their own read less worried than right after the worried message.
    assert after["scores"]["fear"] > alone.scores["fear"] + 0.05
    await bus.stop()
