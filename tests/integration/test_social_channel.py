"""The social channel end to end, on SQLite and PostgreSQL: webhook requests signed as the two
example platforms of docs/config/social-platforms.yaml would sign them, posted to the real app
(real NLU, dialogue, demo bank and FAQ); the bot's replies and an agent's message arrive, signed,
at a local fake platform; public comments become masked feedback items, not conversations."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from helixdesk.channels.social.models import SocialAuthor, SocialDelivery
from helixdesk.conversations.models import Conversation, Message
from helixdesk.db.session import reading
from helixdesk.edge.app import create_app
from helixdesk.insight.models import InsightMessage
from tests.console_login import sign_in
from tests.seeded import seeded_database
from tests.social_sim import (
    EXAMPLE,
    environ,
    fake_platform,
    messenger_headers,
    messenger_message,
    messenger_request,
    weibo_event,
    weibo_headers,
    weibo_request,
)

pytestmark = pytest.mark.slow

PASSWORD = "social-console-pass-1"


@pytest.fixture
def fake():
    with fake_platform() as platform:
        yield platform


@pytest.fixture
def client(db_url, settings_for, fake, monkeypatch):
    seeded_database(db_url, customers=12)[0].dispose()
    for name, value in environ(f"{fake.url}/weibo", f"{fake.url}/messenger").items():
        monkeypatch.setenv(name, value)
    app = create_app(settings_for(db_url, social_platforms_file=EXAMPLE, secret_key="s" * 32))
    with TestClient(app) as c:
        yield c


def _id() -> str:
    return uuid.uuid4().hex[:16]


def _post(client: TestClient, platform: str, request: tuple[bytes, dict[str, str]]):
    body, headers = request
    return client.post(f"/channels/social/{platform}", content=body, headers=headers)


def _count(client: TestClient, model) -> int:  # type: ignore[no-untyped-def]
    with reading(client.app.state.container.sessions) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _conversation_of(client: TestClient, platform: str, author: str) -> str:
    with reading(client.app.state.container.sessions) as s:
        found = s.scalar(
            select(SocialAuthor.conversation_id).where(
                SocialAuthor.platform == platform, SocialAuthor.author_id == author
            )
        )
    assert found is not None
    return found


def _bot_texts(client: TestClient, conversation_id: str) -> list[str]:
    with reading(client.app.state.container.sessions) as s:
        return list(
            s.scalars(
                select(Message.text)
                .where(Message.conversation_id == conversation_id, Message.sender == "bot")
                .order_by(Message.seq)
            )
        )


def _sent_to(fake, path: str, author: str) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for r in fake.received:
        body = r["body"]
        if r["path"] == path == "/weibo" and body["receiver_id"] == author:
            out.append(body["data"]["text"])
        elif r["path"] == path == "/messenger" and body["recipient"]["id"] == author:
            out.append(body["message"]["text"])
    return out


def test_a_direct_message_is_answered_on_the_platform_once_and_an_agent_reply_follows(client, fake):
    author, event = "5612345678", _id()
    r = _post(client, "weibo", weibo_request([weibo_event(event, "信用卡年费怎么收？", author=author)]))
    assert r.status_code == 200, r.text
    assert r.json() == {"events": 1, "messages": 1, "comments": 0, "duplicates": 0, "skipped": 0}
    conversation_id = _conversation_of(client, "weibo", author)
    answers = _bot_texts(client, conversation_id)
    assert answers and "年费" in "".join(answers)
    fake.wait_for(len(answers))
    assert _sent_to(fake, "/weibo", author) == answers and not fake.bad
    with reading(client.app.state.container.sessions) as s:
        conv = s.get(Conversation, conversation_id)
        assert conv is not None and conv.channel == "social" and conv.language == "zh-Hans"
        row = s.scalar(select(SocialAuthor).where(SocialAuthor.author_id == author))
        assert row is not None and row.author_name == "小明爱理财"

    # The platform sends the same event again (a retry, or a replay within the time window).
    r = _post(client, "weibo", weibo_request([weibo_event(event, "信用卡年费怎么收？", author=author)]))
    assert r.status_code == 200 and r.json()["duplicates"] == 1 and r.json()["messages"] == 0
    with reading(client.app.state.container.sessions) as s:
        stored = s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == conversation_id, Message.client_message_id == f"weibo:{event}")
        )
    assert stored == 1 and _bot_texts(client, conversation_id) == answers

    # A Messenger-like customer in English, in a batch with an echo: answered in English. Its
    # replies come after anything the replay could have caused, and nothing more went to the
    # first author.
    psid = f"P{_id()}"
    r = _post(
        client,
        "messenger",
        messenger_request(
            [
                [messenger_message(f"mid.{_id()}", "PAGE-1", "Welcome!", echo=True)],
                [messenger_message(f"mid.{_id()}", psid, "What is the annual fee of the credit card?")],
            ]
        ),
    )
    assert r.status_code == 200 and r.json()["messages"] == 1 and r.json()["skipped"] == 1
    english = _bot_texts(client, _conversation_of(client, "messenger", psid))
    fake.wait_for(len(answers) + len(english))
    assert _sent_to(fake, "/messenger", psid) == english and "annual fee" in " ".join(english).lower()
    assert _sent_to(fake, "/weibo", author) == answers

    # The customer asks for a person; an agent claims the conversation and writes: it arrives.
    r = _post(client, "weibo", weibo_request([weibo_event(_id(), "我要转人工", author=author)]))
    assert r.status_code == 200
    with reading(client.app.state.container.sessions) as s:
        assert (
            s.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
            == "waiting_for_agent"
        )
    client.app.state.container.staff.create_user(
        username="social-agent", password=PASSWORD, display_name="小李", roles=["agent", "supervisor"]
    )
    console = TestClient(client.app, follow_redirects=False)
    sign_in(console, "social-agent", PASSWORD)
    assert console.post("/console/api/presence", json={"presence": "online"}).status_code == 200
    r = console.post("/console/api/claim-next")
    assert r.status_code == 200 and r.json()["conversation_id"] == conversation_id, r.text
    before = len(fake.received)
    r = console.post(
        f"/console/api/conversations/{conversation_id}/messages", json={"text": "您好，我是客服小李。"}
    )
    assert r.status_code == 200, r.text
    message_id = r.json()["message"]["id"]
    sent = fake.wait_for(before + 1)[before:]
    assert [(m["body"]["receiver_id"], m["body"]["data"]["text"]) for m in sent][-1] == (
        author,
        "您好，我是客服小李。",
    )
    assert sent[-1]["idempotency_key"] == message_id
    with reading(client.app.state.container.sessions) as s:
        assert s.get(SocialDelivery, message_id) is not None

    # The console shows the conversation's channel.
    view = console.get(f"/console/api/conversations/{conversation_id}")
    assert view.status_code == 200 and view.json()["conversation"]["channel"] == "social"
    page = console.get(f"/console/conversations/{conversation_id}")
    heading = re.search(r"<h1>.*?</h1>", page.text, re.S)
    assert heading and "社交媒体" in heading.group(0)

    # The agent wraps up: the conversation closes. The first event sent again still counts as a
    # repeat; the author's next message starts a new conversation.
    r = console.post(
        f"/console/api/conversations/{conversation_id}/wrap-up",
        json={"disposition": "answered", "resolution": "resolved"},
    )
    assert r.status_code == 200, r.text
    r = _post(client, "weibo", weibo_request([weibo_event(event, "信用卡年费怎么收？", author=author)]))
    assert r.status_code == 200 and r.json()["duplicates"] == 1
    assert _conversation_of(client, "weibo", author) == conversation_id
    r = _post(client, "weibo", weibo_request([weibo_event(_id(), "你好", author=author)]))
    assert r.status_code == 200 and r.json()["messages"] == 1
    assert _conversation_of(client, "weibo", author) != conversation_id


def test_public_comments_become_masked_feedback_not_conversations(client, fake):
    conversations, authors = _count(client, Conversation), _count(client, SocialAuthor)
    ids = [_id(), _id(), _id()]
    batch = [
        weibo_event(
            ids[0], "你们APP转账一直失败，我的手机13812345678也收不到验证码", kind="comment", status="S1"
        ),
        weibo_event(
            ids[1], "The app keeps crashing when I log in", kind="mention", lang="en_US", name="Amy W"
        ),
        weibo_event(ids[2], "", kind="like"),
    ]
    r = _post(client, "weibo", weibo_request(batch))
    assert r.status_code == 200, r.text
    assert r.json() == {"events": 3, "messages": 0, "comments": 2, "duplicates": 0, "skipped": 1}
    assert _count(client, Conversation) == conversations and _count(client, SocialAuthor) == authors

    client.app.state.container.staff.create_user(
        username="social-supervisor", password=PASSWORD, display_name="Supervisor", roles=["supervisor"]
    )
    console = TestClient(client.app, follow_redirects=False)
    sign_in(console, "social-supervisor", PASSWORD)
    r = console.get("/console/api/insight/feedback", params={"source": "social", "channel": "weibo"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 2 and {i["source"] for i in items} == {"social"}
    by_language = {i["language"]: i for i in items}
    assert set(by_language) == {"zh-Hans", "en"}
    assert "13812345678" not in by_language["zh-Hans"]["text"] and "验证码" in by_language["zh-Hans"]["text"]
    assert by_language["en"]["text"] == "The app keeps crashing when I log in"
    with reading(client.app.state.container.sessions) as s:
        kept = " ".join(s.scalars(select(InsightMessage.text).where(InsightMessage.source == "social")))
    assert "13812345678" not in kept and "Amy W" not in kept and "小明爱理财" not in kept

    # The same comments again: imported once.
    r = _post(client, "weibo", weibo_request(batch))
    assert r.json()["comments"] == 0 and r.json()["duplicates"] == 2
    assert len(console.get("/console/api/insight/feedback", params={"source": "social"}).json()["items"]) == 2


def test_refused_requests_store_nothing(client):
    def counts() -> list[int]:
        return [_count(client, m) for m in (Message, SocialAuthor, InsightMessage, Conversation)]

    before = counts()
    good = [weibo_event(_id(), "信用卡年费怎么收？"), weibo_event(_id(), "太慢了", kind="comment")]

    body, headers = weibo_request(good)
    r = client.post("/channels/social/weibo", content=body + b" ", headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "social_bad_signature"
    r = _post(client, "weibo", weibo_request(good, now=time.time() - 301))
    assert r.status_code == 403 and r.json()["error"]["code"] == "social_stale_timestamp"
    body, headers = weibo_request(good)
    r = client.post("/channels/social/weibo", content=body, headers={**headers, "X-Weibo-Timestamp": "0"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "social_bad_signature"

    # Signed well, but the third event lacks its author: the whole batch is refused.
    broken = weibo_event(_id(), "hello")
    del broken["sender"]
    r = _post(client, "weibo", weibo_request([*good, broken]))
    assert r.status_code == 422 and r.json()["error"]["code"] == "social_payload_mismatch"
    assert "event 3 has no author_id at 'sender.id'" in r.json()["error"]["message"]
    r = _post(client, "weibo", weibo_request([*good, weibo_event(_id(), "长" * 2001)]))
    assert r.status_code == 422 and r.json()["error"]["code"] == "social_payload_mismatch"

    # Not JSON, or not the platform's shape at all.
    r = client.post("/channels/social/weibo", content=b"not json", headers=weibo_headers(b"not json"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "social_bad_payload"
    body = json.dumps({"object": "page"}).encode()
    r = client.post("/channels/social/messenger", content=body, headers=messenger_headers(body))
    assert r.status_code == 422 and r.json()["error"]["code"] == "social_payload_mismatch"

    r = _post(client, "douyin", weibo_request(good))
    assert r.status_code == 404 and r.json()["error"]["code"] == "social_not_configured"
    assert counts() == before
