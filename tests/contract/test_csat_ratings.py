"""The customer's rating of a conversation (CSAT) on SQLite and PostgreSQL: stored once, with its
event in the same transaction and its comment masked with the NLU's reading of it; bad input and
conversations that cannot be rated get a stable code and store nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from helixdesk.audit import Actor
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.bus.outbox import EventRecord
from helixdesk.conversations.models import Conversation, CsatRating
from helixdesk.conversations.writer import NewRating
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError
from helixdesk.db.session import transaction
from helixdesk.edge.app import create_app
from helixdesk.edge.container import Container
from helixdesk.retention import ANONYMOUS_CUSTOMER_ID, RetentionJob, RetentionPolicy
from helixdesk.rights import erase_customer, export_customer

PASSWORD = "correct horse battery staple"
NEGATIVE = {"anger", "sadness", "fear", "disgust"}
CARD = "6222021234567890128"  # Luhn-valid


@pytest.fixture
async def desk(sessions, make_conversations):
    bus = MemoryEventBus()
    container = make_conversations(sessions, bus)
    yield container
    await bus.stop()


async def chat(desk: Container, text: str = "我想问一下信用卡账单的事", **create: str) -> str:
    conv = await desk.conversations.create_conversation(channel="web", **create)
    await desk.conversations.post_customer_message(conv.id, text)
    return conv.id


async def closed_by_an_agent(desk: Container) -> str:
    """A conversation the customer took to a person, who wrapped it up."""
    conv_id = await chat(desk)
    await desk.conversations.request_person(conv_id)
    user = desk.staff.create_user(
        username="agent.li", password=PASSWORD, display_name="李娜", roles=["agent"], languages=["zh"]
    )
    desk.agents.set_presence(user.id, "online")
    agent = desk.staff.get("agent.li")
    await desk.claims.claim_next(agent)
    await desk.wrap_up.wrap_up(agent, conv_id, disposition="answered", resolution="unresolved")
    assert (await desk.conversations.get_conversation(conv_id)).state == "closed"
    return conv_id


def rated_events(desk: Container, conv_id: str) -> list[dict]:
    with desk.sessions() as s:
        rows = s.scalars(
            select(EventRecord.payload).where(
                EventRecord.conversation_id == conv_id, EventRecord.type == "conversation.rated"
            )
        ).all()
    return [json.loads(p) for p in rows]


def stored(desk: Container) -> tuple[int, int]:
    """How many ratings and rating events there are."""
    with desk.sessions() as s:
        ratings = s.scalar(select(func.count()).select_from(CsatRating))
        events = s.scalar(
            select(func.count()).select_from(EventRecord).where(EventRecord.type == "conversation.rated")
        )
    return ratings, events


async def test_a_closed_conversation_is_rated_once_with_its_event_and_the_comments_nlu(desk):
    conv_id = await closed_by_an_agent(desk)
    status = await desk.ratings.status(conv_id)
    assert (status.rating, status.can_rate, status.offer) == (None, True, True)

    out = await desk.ratings.rate(conv_id, 2, "  等了太久，问题也没解决  ")
    assert (out.score, out.comment, out.language) == (2, "等了太久，问题也没解决", "zh-Hans")
    with desk.sessions() as s:
        row = s.scalar(select(CsatRating).where(CsatRating.conversation_id == conv_id))
        conv = s.get(Conversation, conv_id)
    assert row.customer_id == conv.customer_id and row.score == 2
    assert row.nlu["text"] == "等了太久，问题也没解决" and row.nlu["language"] == "zh-Hans"
    assert row.nlu["emotion"]["label"] in NEGATIVE, row.nlu["emotion"]
    assert {"intent", "entities", "risk", "emotion"} <= set(row.nlu)
    events = rated_events(desk, conv_id)
    assert [(e["score"], e["has_comment"]) for e in events] == [(2, True)]

    status = await desk.ratings.status(conv_id)
    assert status.rating == out and (status.can_rate, status.offer) == (False, False)
    with pytest.raises(AppError) as refused:
        await desk.ratings.rate(conv_id, 5, "其实还行")
    assert (refused.value.code, refused.value.http_status) == ("already_rated", 409)
    assert stored(desk) == (1, 1)
    with desk.sessions() as s:
        assert s.scalar(select(CsatRating.score).where(CsatRating.conversation_id == conv_id)) == 2


async def test_the_rating_and_its_event_are_one_transaction(desk):
    conv_id = await chat(desk)
    with pytest.raises(RuntimeError), transaction(desk.sessions) as s:
        conv = desk.writer.lock(s, conv_id)
        desk.writer.rate(s, conv, NewRating(score=4))
        assert s.scalar(select(func.count()).select_from(CsatRating)) == 1
        raise RuntimeError("the transaction fails after the rating was written")
    assert stored(desk) == (0, 0)
    await desk.ratings.rate(conv_id, 4)
    assert stored(desk) == (1, 1)
    with desk.sessions() as s:
        row = s.scalar(select(CsatRating))
    assert (row.comment, row.nlu) == ("", {})
    assert [(e["score"], e["has_comment"]) for e in rated_events(desk, conv_id)] == [(4, False)]


async def test_the_comment_is_masked_and_so_is_its_nlu_record(desk):
    conv_id = await chat(desk, "Hi, I have a question about my card", language="en")
    comment = f"The agent was rude. My card {CARD} is still blocked."
    out = await desk.ratings.rate(conv_id, 1, comment)
    assert CARD not in out.comment and "0128" in out.comment
    with desk.sessions() as s:
        row = s.scalar(select(CsatRating))
    assert row.language == "en" and row.nlu["language"] == "en"
    assert CARD not in json.dumps(row.nlu, ensure_ascii=False) and CARD not in row.comment
    assert row.nlu["text"] == row.comment
    card = [e for e in row.nlu["entities"] if e["type"] == "card_number"]
    assert card and row.comment[card[0]["start"] : card[0]["end"]] == card[0]["text"]


async def test_saying_goodbye_to_the_bot_offers_the_rating(desk):
    conv_id = await chat(desk, "我想查一下余额")
    assert (await desk.ratings.status(conv_id)).offer is False
    await desk.conversations.post_customer_message(conv_id, "好的，谢谢，没有别的问题了")
    status = await desk.ratings.status(conv_id)
    assert (status.can_rate, status.offer) == (True, True)
    await desk.conversations.post_customer_message(conv_id, "等等，我还想问一下转账限额")
    assert (await desk.ratings.status(conv_id)).offer is False


@pytest.mark.parametrize("score", [0, 6, -1, "five", "3", 2.5, True, None, [3]])
async def test_a_bad_score_is_refused_and_nothing_is_stored(desk, score):
    conv_id = await chat(desk)
    with pytest.raises(AppError) as refused:
        await desk.ratings.rate(conv_id, score, "还行")
    assert (refused.value.code, refused.value.http_status) == ("invalid_score", 422)
    assert stored(desk) == (0, 0)


async def test_other_refusals_have_stable_codes_and_store_nothing(desk):
    async def refused(conv_id: str, score: object = 3, comment: str = "") -> tuple[str, int]:
        with pytest.raises(AppError) as e:
            await desk.ratings.rate(conv_id, score, comment)
        return e.value.code, e.value.http_status

    conv_id = await chat(desk)
    assert await refused(conv_id, comment="慢" * 1001) == ("comment_too_long", 422)
    assert await refused("no-such-conversation") == ("conversation_not_found", 404)
    with pytest.raises(AppError) as unknown:
        await desk.ratings.status("no-such-conversation")
    assert unknown.value.code == "conversation_not_found"

    silent = await desk.conversations.create_conversation(channel="web")
    assert await refused(silent.id) == ("nothing_to_rate", 409)
    status = await desk.ratings.status(silent.id)
    assert (status.can_rate, status.offer) == (False, False)

    closed_id = await closed_by_an_agent(desk)
    with desk.sessions.begin() as s:
        s.get(Conversation, closed_id).closed_at = utcnow() - timedelta(days=8)
    assert await refused(closed_id, 1, "太慢了") == ("rating_closed", 409)
    assert (await desk.ratings.status(closed_id)).can_rate is False
    with desk.sessions.begin() as s:
        s.get(Conversation, closed_id).closed_at = utcnow() - timedelta(days=6)
    assert (await desk.ratings.status(closed_id)).offer is True

    removed = await chat(desk)
    with desk.sessions.begin() as s:
        s.get(Conversation, removed).anonymised_at = utcnow()
    assert await refused(removed) == ("rating_closed", 409)
    assert stored(desk) == (0, 0)


def test_over_http_only_the_conversations_token_rates_it_and_errors_have_one_shape(
    sessions, make_conversations
):
    app = create_app(container=make_conversations(sessions, MemoryEventBus()))
    with TestClient(app) as client:
        created = client.post("/api/v1/conversations", json={"channel": "web", "language": "en"})
        conv, token = created.json()["id"], created.json()["token"]
        other = client.post("/api/v1/conversations", json={"channel": "web"}).json()["token"]
        mine = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/conversations/{conv}/rating"
        posted = client.post(f"/api/v1/conversations/{conv}/messages", json={"text": "hi"}, headers=mine)
        assert posted.status_code == 200

        def refused(body: object, headers: dict[str, str], status: int, code: str) -> None:
            r = client.post(url, json=body, headers=headers)
            assert r.status_code == status, r.text
            assert set(r.json()) == {"error"} and r.json()["error"]["code"] == code, r.text
            assert r.json()["error"]["message"]

        refused({"score": 3}, {}, 401, "auth_required")
        refused({"score": 3}, {"Authorization": f"Bearer {other}"}, 403, "conversation_forbidden")
        assert client.get(url, headers={"Authorization": f"Bearer {other}"}).status_code == 403
        for score in (0, 6, "text", 4.5, None):
            refused({"score": score}, mine, 422, "invalid_score")
        refused({"comment": "ok"}, mine, 422, "invalid_request")
        refused({"score": 3, "stars": 3}, mine, 422, "invalid_request")
        refused({"score": 3, "comment": "x" * 1001}, mine, 422, "comment_too_long")
        refused({"score": 3, "comment": "a\u0000b"}, mine, 422, "invalid_characters")
        assert client.get(url, headers=mine).json() == {"rating": None, "can_rate": True, "offer": False}

        r = client.post(url, json={"score": 5.0, "comment": "Quick and helpful, thanks"}, headers=mine)
        assert r.status_code == 201, r.text
        assert r.json()["score"] == 5 and r.json()["language"] == "en"
        got = client.get(url, headers=mine).json()
        assert got["rating"] == r.json() and (got["can_rate"], got["offer"]) == (False, False)
        refused({"score": 1}, mine, 409, "already_rated")
    with sessions() as s:
        assert s.scalars(select(CsatRating.score)).all() == [5]


async def test_retention_and_the_customers_rights_reach_the_rating(desk):
    operator = Actor.system("cli:dpo")
    conv_id = await chat(desk)
    await desk.ratings.rate(conv_id, 2, "等了太久，问题也没解决")
    with desk.sessions() as s:
        customer_id = s.get(Conversation, conv_id).customer_id
    exported = export_customer(desk.sessions, desk.audit, customer_id, actor=operator)
    (conversation,) = exported["conversations"]
    assert conversation["rating"]["score"] == 2
    assert conversation["rating"]["comment"] == "等了太久，问题也没解决"
    assert conversation["rating"]["nlu"]["emotion"]["label"] in NEGATIVE

    # The NLU record is cut down first; then the comment goes and the score stays, anonymously.
    days = {"nlu": 90, "conversations": 730, "dialogue_state": 0, "verification": 0, "outbox": 0}
    policy = RetentionPolicy(days={**days, "action_records": 0, "audit": 0})
    later = utcnow() + timedelta(days=100)
    RetentionJob(sessions=desk.sessions, audit=desk.audit, policy=policy, clock=lambda: later).run()
    with desk.sessions() as s:
        row = s.scalar(select(CsatRating))
    assert row.comment == "等了太久，问题也没解决" and row.nlu["reduced"] is True
    assert "text" not in row.nlu and row.nlu["emotion"]["label"] in NEGATIVE
    much_later = utcnow() + timedelta(days=800)
    RetentionJob(sessions=desk.sessions, audit=desk.audit, policy=policy, clock=lambda: much_later).run()
    with desk.sessions() as s:
        row = s.scalar(select(CsatRating))
    assert (row.score, row.comment, row.nlu, row.customer_id) == (2, "", {}, ANONYMOUS_CUSTOMER_ID)

    # Erasure: the customer's rating goes with their conversations.
    other = await chat(desk)
    await desk.ratings.rate(other, 4, "还可以")
    with desk.sessions() as s:
        other_customer = s.get(Conversation, other).customer_id
    report = erase_customer(desk.sessions, desk.audit, other_customer, actor=operator)
    assert report.deleted["ratings"] == 1
    with desk.sessions() as s:
        assert s.scalars(select(CsatRating.score)).all() == [2]
