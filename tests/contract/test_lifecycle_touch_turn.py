"""The bot's lifecycle touch through a real turn, on SQLite and PostgreSQL: an identified customer's
answered question brings the first strategy for the bot that suits them, once per conversation,
stored in `lifecycle_touches` with the turn; an anonymous customer gets none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helixdesk.actions.rates import RateService
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.core.clock import utcnow
from helixdesk.db.session import transaction
from helixdesk.edge.container import Container
from helixdesk.lifecycle.models import TouchRow
from helixdesk.lifecycle.profile import ConversationSignals
from helixdesk.lifecycle.recommend import recommend
from helixdesk.lifecycle.store import Editor
from helixdesk.lifecycle.strategies import in_holdout

QUESTION = "今天美元汇率是多少"


@pytest.fixture
async def desk(db_url, settings_for):
    container = Container.build(settings_for(db_url, secret_key="s" * 32))
    with transaction(container.sessions) as s:
        import_bank_file(s, build_demo_bank(30))
    RateService(sessions=container.sessions).seed_demo(as_of=utcnow())
    await container.start()
    try:
        yield container
    finally:
        await container.stop()


def expected_touch(desk: Container, ref: str):
    """What the strategies and the gate offer this customer through the bot today, if anything."""
    today = utcnow().astimezone(desk.config.actions.bank.tz).date()
    view = desk.profiles.read(ref, ConversationSignals(), today=today)
    assert view is not None
    found = recommend(
        view.snapshot,
        desk.strategies.active().strategies,
        desk.config.dialogue.suitability,
        trigger="conversation",
        where="bot",
    ).shown
    return found[0] if found else None


def stored(desk: Container, conversation_id: str) -> list[TouchRow]:
    with desk.sessions() as s:
        return list(s.scalars(select(TouchRow).where(TouchRow.conversation_id == conversation_id)))


def held_out(desk: Container, ref: str, strategy_id: str) -> bool:
    strategy = desk.strategies.active().get(strategy_id)
    assert strategy is not None
    return in_holdout(strategy, ref)


async def test_an_identified_customer_gets_one_touch_after_an_answer(desk):
    ref, touch = next(
        (r, t)
        for r in (f"C{i:06d}" for i in range(1, 31))
        if (t := expected_touch(desk, r)) is not None and not held_out(desk, r, t.strategy_id)
    )
    conv = await desk.conversations.create_conversation(channel="web", customer_ref=ref)
    first = await desk.conversations.post_customer_message(conv.id, QUESTION)
    texts = [r.text for r in first.replies]
    assert texts[-1] == touch.texts["zh-Hans"] and len(texts) >= 2, texts
    (row,) = stored(desk, conv.id)
    assert (row.strategy_id, row.channel, row.trigger, row.arm, row.status) == (
        touch.strategy_id,
        "bot",
        "conversation",
        "touched",
        "given",
    )
    second = await desk.conversations.post_customer_message(conv.id, QUESTION)
    assert touch.texts["zh-Hans"] not in [r.text for r in second.replies]
    assert len(stored(desk, conv.id)) == 1


async def test_an_anonymous_customer_gets_no_touch(desk):
    conv = await desk.conversations.create_conversation(channel="web")
    result = await desk.conversations.post_customer_message(conv.id, QUESTION)
    assert result.replies and stored(desk, conv.id) == []


async def test_a_customer_in_the_holdout_group_is_told_nothing_and_the_holdout_is_stored(desk):
    """The pack holds out 10% of the customers of its recommendations; with the strategy's share
    raised to a half, some of the bank's customers are surely in it."""
    _ref, some = next(
        (r, t) for r in (f"C{i:06d}" for i in range(1, 31)) if (t := expected_touch(desk, r)) is not None
    )
    strategy = desk.strategies.active().get(some.strategy_id)
    assert strategy is not None
    desk.strategies.update(
        Editor("admin", "admin"), strategy.id, strategy.model_dump(mode="json") | {"holdout": 0.5}
    )
    ref, touch = next(
        (r, t)
        for r in (f"C{i:06d}" for i in range(1, 31))
        if (t := expected_touch(desk, r)) is not None
        and t.strategy_id == strategy.id
        and held_out(desk, r, t.strategy_id)
    )
    conv = await desk.conversations.create_conversation(channel="web", customer_ref=ref)
    result = await desk.conversations.post_customer_message(conv.id, QUESTION)
    assert touch.texts["zh-Hans"] not in [r.text for r in result.replies]
    assert all(r.kind != "touch" for r in result.replies)
    (row,) = stored(desk, conv.id)
    assert (row.strategy_id, row.arm, row.status) == (strategy.id, "holdout", "held_out")
