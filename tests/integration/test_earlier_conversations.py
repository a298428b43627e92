"""One history on the customer's side: `GET /api/v1/conversations/{id}/earlier` through the real app
(real NLU, dialogue, demo bank, the WeChat channel with signed and encrypted callbacks), on SQLite
and PostgreSQL. A customer binds on WeChat and chats there, then opens web chat: the web
conversation lists the WeChat one with its messages as stored."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from helixdesk.audit import Actor
from helixdesk.conversations.earlier import Cursor
from helixdesk.conversations.models import Conversation
from helixdesk.core.clock import utcnow
from helixdesk.db.session import transaction
from helixdesk.edge.app import create_app
from helixdesk.retention import RetentionJob, RetentionPolicy
from helixdesk.rights import erase_customer
from tests.integration.test_wechat_channel import (
    _chat,
    _conversation_of,
    _latest_code,
    _openid,
    _settings,
)
from tests.ocr_images import draw_lines
from tests.seeded import seeded_database
from tests.wechat_sim import WeChatServers, fake_wechat_api

pytestmark = pytest.mark.slow

PHONE = "13812345678"


@pytest.fixture(scope="module")
def fake_api():
    with fake_wechat_api() as fake:
        yield fake


@pytest.fixture
def client(db_url, model_root, fake_api):
    seeded_database(db_url, customers=12)[0].dispose()
    app = create_app(_settings(db_url, model_root, fake_api.url, 4.0))
    with TestClient(app) as c:
        yield c


def _web_key(client: TestClient) -> str:
    _, key = client.app.state.container.api_keys.create(name="web back end", channel="web")
    return key


def _web(client: TestClient, key: str, ref: str | None, *texts: str) -> dict[str, str]:
    """A web conversation started by the bank's web back end (for `ref`, or a visitor), with
    `texts` sent in it; returns its id and token."""
    body = {"channel": "web", "customer_ref": ref} if ref else {"channel": "web"}
    r = client.post("/api/v1/conversations", json=body, headers={"X-Api-Key": key})
    assert r.status_code == 201, r.text
    conv = r.json()
    for text in texts:
        sent = client.post(
            f"/api/v1/conversations/{conv['id']}/messages", json={"text": text}, headers={"X-Api-Key": key}
        )
        assert sent.status_code == 200, sent.text
    return {"id": conv["id"], "token": conv["token"]}


def _earlier(client: TestClient, conv: dict[str, str], **params: object):  # type: ignore[no-untyped-def]
    return client.get(
        f"/api/v1/conversations/{conv['id']}/earlier",
        params=params,
        headers={"Authorization": f"Bearer {conv['token']}"},
    )


def _all_pages(client: TestClient, conv: dict[str, str], limit: int) -> list[list[str]]:
    pages, before = [], None
    while True:
        r = _earlier(client, conv, limit=limit, **({"before": before} if before else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append([c["id"] for c in body["conversations"]])
        before = body["next_cursor"]
        if before is None:
            return pages


def _bind(client: TestClient, wechat: WeChatServers, openid: str, ref: str) -> str:
    """Bind `openid` to `ref` with the one-time code; returns the visitor conversation it began in."""
    assert "客户号" in _chat(client, wechat, openid, "绑定")["Content"]
    anonymous = _conversation_of(client, openid)
    assert "验证码" in _chat(client, wechat, openid, ref)["Content"]
    assert "绑定成功" in _chat(client, wechat, openid, _latest_code(client, ref))["Content"]
    return anonymous


def test_a_wechat_conversation_is_in_the_web_chats_earlier_history(client):
    container = client.app.state.container
    wechat, openid, ref = WeChatServers(), _openid(), "C000003"
    anonymous = _bind(client, wechat, openid, ref)
    _chat(client, wechat, openid, "我的账户余额是多少？")
    _chat(client, wechat, openid, f"我的手机号是{PHONE}，信用卡年费怎么收？")
    bound = _conversation_of(client, openid)
    assert bound != anonymous

    # Then, on the web, they send a picture of a bill.
    key = _web_key(client)
    shot = _web(client, key, ref)
    sent = client.post(
        f"/api/v1/conversations/{shot['id']}/images",
        files={"image": ("bill.png", draw_lines(["信用卡年费 300.00", f"客服电话 {PHONE}"]), "image/png")},
        data={"caption": "这是什么费用"},
        headers={"X-Api-Key": key},
    )
    assert sent.status_code == 200, sent.text

    web = _web(client, key, ref)
    r = _earlier(client, web)
    assert r.status_code == 200, r.text
    assert PHONE not in r.text  # masked wherever it was: typed, or read from the picture
    body = r.json()
    # Newest first; not the visitor's conversation on WeChat before binding.
    assert [c["id"] for c in body["conversations"]] == [shot["id"], bound]
    assert body["next_cursor"] is None
    pictured, listed = body["conversations"]
    image = client.portal.call(container.conversations.list_messages, shot["id"])
    assert pictured["channel"] == "web"
    assert pictured["messages"] == [m.model_dump(mode="json") for m in image]
    assert pictured["messages"][0]["kind"] == "image" and "年费" in pictured["messages"][0]["image"]["text"]
    assert pictured["messages"][0]["text"] == "这是什么费用"
    assert listed["channel"] == "wechat" and listed["state"] in ("bot", "closed")
    assert listed["started_at"] and listed["last_activity_at"] and listed["messages_left_out"] == 0
    # Its messages exactly as the conversation's own message list gives them: masked, never unmasked.
    stored = client.portal.call(container.conversations.list_messages, bound)
    assert listed["messages"] == [m.model_dump(mode="json") for m in stored]
    texts = [m["text"] for m in listed["messages"]]
    assert "我的账户余额是多少？" in texts
    assert PHONE not in " ".join(texts) and any("信用卡年费" in t for t in texts)
    assert {m["sender"] for m in listed["messages"]} >= {"customer", "bot"}

    # The web back end's key reads it too (whoever may read the conversation's messages); a key of
    # another channel may not, nor the token of another conversation.
    with_key = client.get(f"/api/v1/conversations/{web['id']}/earlier", headers={"X-Api-Key": key})
    assert with_key.status_code == 200 and with_key.json() == body
    _, wx_key = container.api_keys.create(name="wechat back end", channel="wechat")
    other = client.get(f"/api/v1/conversations/{web['id']}/earlier", headers={"X-Api-Key": wx_key})
    assert other.status_code == 403 and other.json()["error"]["code"] == "conversation_forbidden"
    assert client.get(f"/api/v1/conversations/{web['id']}/earlier").json()["error"]["code"] == "auth_required"

    # A visitor has no history; another customer never sees this one's, nor this one theirs.
    visitor = _web(client, key, None, "你好")
    assert _earlier(client, visitor).json() == {"conversations": [], "next_cursor": None}
    stranger_before = _web(client, key, "C000004", "信用卡年费怎么收？")
    stranger = _web(client, key, "C000004")
    assert [c["id"] for c in _earlier(client, stranger).json()["conversations"]] == [stranger_before["id"]]
    again = _web(client, key, ref)
    assert [c["id"] for c in _earlier(client, again).json()["conversations"]] == [
        shot["id"],
        bound,
    ]  # `web` said nothing


def test_pages_go_back_newest_first_and_bad_cursors_and_limits_are_refused(client):
    key = _web_key(client)
    ref = "C000005"
    older = [_web(client, key, ref, f"第{i}个问题：信用卡年费怎么收？")["id"] for i in range(5)]
    current = _web(client, key, ref)
    later = _web(client, key, ref, "转账限额是多少？")  # started after the current one: not earlier

    pages = _all_pages(client, current, limit=2)
    assert pages == [older[4:2:-1], older[2:0:-1], older[:1]]
    default = _earlier(client, current).json()
    assert [c["id"] for c in default["conversations"]] == older[::-1]  # 5 a page unless asked
    assert default["next_cursor"] is None
    assert later["id"] in [c["id"] for c in _earlier(client, _web(client, key, ref)).json()["conversations"]]

    # A cursor only positions the page: one from another conversation's list shows what is earlier
    # than this one's start and no more, and none goes past the conversation itself.
    from_later = _earlier(client, later, limit=1).json()
    assert [c["id"] for c in from_later["conversations"]] == [older[4]]  # `current` said nothing yet
    page = _earlier(client, current, before=from_later["next_cursor"]).json()
    assert [c["id"] for c in page["conversations"]] == older[3::-1]
    future = Cursor(utcnow() + timedelta(days=1), "ffffffff-ffff-ffff-ffff-ffffffffffff").encode()
    assert [c["id"] for c in _earlier(client, current, before=future).json()["conversations"]] == older[::-1]

    for before in ("not a cursor!", "eHl6", base64.urlsafe_b64encode(b"12.../x").decode(), "9" * 40):
        r = _earlier(client, current, before=before)
        assert r.status_code == 422, (before, r.text)
        assert r.json()["error"]["code"] == "invalid_cursor"
    for limit in (0, 21, "five", -1):
        r = _earlier(client, current, limit=limit)
        assert r.status_code == 422, (limit, r.text)
        assert r.json()["error"]["code"] == "invalid_request"
    assert _earlier(client, current, before="x" * 201).json()["error"]["code"] == "invalid_request"
    missing = client.get("/api/v1/conversations/nope/earlier", headers={"X-Api-Key": key})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "conversation_not_found"


def test_expired_anonymised_and_erased_conversations_are_not_listed(client):
    container = client.app.state.container
    key = _web_key(client)
    ref = "C000006"
    kept = _web(client, key, ref, "信用卡年费怎么收？")["id"]
    expired = _web(client, key, ref, "转账限额是多少？")["id"]
    current = _web(client, key, ref)
    days = container.settings.retention_conversations_days
    with transaction(container.sessions) as s:
        s.execute(
            update(Conversation)
            .where(Conversation.id == expired)
            .values(updated_at=utcnow() - timedelta(days=days + 1))
        )
    # Past the retention window: not listed even before the retention job has run.
    assert [c["id"] for c in _earlier(client, current).json()["conversations"]] == [kept]
    job = RetentionJob(
        sessions=container.sessions,
        audit=container.audit,
        policy=RetentionPolicy.from_settings(container.settings),
    )
    assert job.run().results
    assert [c["id"] for c in _earlier(client, current).json()["conversations"]] == [kept]

    # Erased: every conversation of theirs is gone; a new one starts without a history.
    erase_customer(container.sessions, container.audit, ref, actor=Actor.system("test"), reason="request")
    fresh = _web(client, key, ref)
    assert _earlier(client, fresh).json() == {"conversations": [], "next_cursor": None}
