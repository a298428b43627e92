"""The social channel over the real conversation service, on SQLite and PostgreSQL: messages of one
author sent at the same moment land in one conversation, in order; the same event sent twice at the
same moment is stored once; an author whose conversation is with a person is not answered by the
bot."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.channels.social.models import SocialAuthor
from helixdesk.conversations.models import Conversation, Message
from helixdesk.db.session import reading, transaction
from tests.social_sim import EXAMPLE, environ, weibo_event, weibo_request


def _headers(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


async def test_one_author_at_the_same_moment_one_conversation(sessions, make_conversations, monkeypatch):
    for name, value in environ("http://127.0.0.1:9/w", "http://127.0.0.1:9/m").items():
        monkeypatch.setenv(name, value)
    container = make_conversations(sessions, MemoryEventBus(), social_platforms_file=EXAMPLE)
    social = container.social

    async def send(event_id: str, text: str) -> dict[str, int]:
        body, headers = weibo_request([weibo_event(event_id, text, author="777")])
        return await social.receive("weibo", _headers(headers), body)

    results = await asyncio.gather(
        send("e1", "信用卡年费怎么收？"), send("e2", "怎么申请信用卡分期？"), send("e1", "信用卡年费怎么收？")
    )
    assert sorted(r["messages"] for r in results) == [0, 1, 1]
    assert sum(r["duplicates"] for r in results) == 1
    with reading(sessions) as s:
        (conversation_id,) = s.scalars(
            select(SocialAuthor.conversation_id).where(SocialAuthor.author_id == "777")
        )
        assert s.scalar(select(func.count()).select_from(Conversation)) == 1
        customer = list(
            s.execute(
                select(Message.client_message_id, Message.text)
                .where(Message.conversation_id == conversation_id, Message.sender == "customer")
                .order_by(Message.seq)
            )
        )
        bot = s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == conversation_id, Message.sender == "bot")
        )
    assert [c for c, _ in customer] == ["weibo:e1", "weibo:e2"] and bot >= 2

    # A person has the conversation: the next message is stored and the bot stays silent.
    with transaction(sessions) as s:
        s.execute(update(Conversation).where(Conversation.id == conversation_id).values(state="with_agent"))
    assert (await send("e3", "还在吗？"))["messages"] == 1
    with reading(sessions) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.conversation_id == conversation_id, Message.sender == "bot")
            )
            == bot
        )
