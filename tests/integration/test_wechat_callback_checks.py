"""What a WeChat callback must be before anything is stored, on SQLite and PostgreSQL: fields no
longer than their columns (an over-long openid or MsgId was a 500 on PostgreSQL), and in plain
mode a timestamp within the tolerance and a nonce not reused with another body."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from helixdesk.channels.wechat import xml as wx
from helixdesk.channels.wechat.models import WeChatUser
from helixdesk.conversations.models import Message
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.edge.app import create_app
from tests.wechat_sim import AES_KEY, APP_ID, TOKEN, WeChatServers, event_xml, text_xml

pytestmark = pytest.mark.slow

MP = "/channels/wechat/mp"


@pytest.fixture
def counts(db_url):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)

    def count() -> tuple[int, int]:
        with reading(sessions) as s:
            messages = s.scalar(select(func.count()).select_from(Message)) or 0
            users = s.scalar(select(func.count()).select_from(WeChatUser)) or 0
        return messages, users

    yield count
    engine.dispose()


def _post(client: TestClient, sent):  # type: ignore[no-untyped-def]
    return client.post(
        MP, params=sent.params, content=sent.body.encode(), headers={"Content-Type": "text/xml"}
    )


def test_over_long_or_odd_ids_are_refused_with_wechat_bad_xml_and_nothing_is_stored(
    db_url, settings_for, counts
):
    wechat = WeChatServers()
    settings = settings_for(db_url, wechat_app_id=APP_ID, wechat_token=TOKEN, wechat_encoding_aes_key=AES_KEY)
    with TestClient(create_app(settings)) as client:
        before = counts()
        bad = [
            text_xml("o" * 129, "余额多少", "1"),  # the openid column holds 128
            text_xml("oLVPpjq-long-msgid", "余额多少", "9" * 100),  # the client_message_id holds 64
            text_xml("o 空格", "余额多少", "2"),
            text_xml("oLVPpjq-bad-msgid", "余额多少", "12 34"),
            event_xml("oLVPpjq-event", "subscribe", at=10**40),  # the event's de-duplication key
            text_xml("oLVPpjq-to", "余额多少", "3", to="g" * 200),
        ]
        for plain in bad:
            r = _post(client, wechat.callback(plain))
            assert r.status_code == 400, (plain, r.text)
            assert r.json()["error"]["code"] == "wechat_bad_xml"
        assert counts() == before

        # At the limits: stored (a WeCom userid may be 64 characters; WeChat's MsgId is 64-bit).
        openid, msg_id = "o" * 128, str(2**64 - 1)
        r = _post(client, wechat.callback(text_xml(openid, "你好", msg_id)))
        assert r.status_code == 200, r.text
        assert wechat.open_reply(r.text)["ToUserName"] == openid
        with reading(client.app.state.container.sessions) as s:
            kept = s.scalar(
                select(Message.client_message_id).where(Message.client_message_id == f"wx:{msg_id}")
            )
        assert kept == f"wx:{msg_id}"


def test_plain_mode_refuses_replays_and_stale_timestamps_and_warns_at_start_up(
    db_url, settings_for, counts, caplog
):
    wechat = WeChatServers()
    settings = settings_for(db_url, wechat_app_id=APP_ID, wechat_token=TOKEN)
    with caplog.at_level(logging.WARNING, logger="helixdesk.channels.wechat.config"):
        client_cm = TestClient(create_app(settings))
        client = client_cm.__enter__()
    try:
        assert any("plain mode" in r.getMessage() for r in caplog.records)
        openid = "oPlain" + uuid.uuid4().hex[:20]
        first = wechat.plain_callback(text_xml(openid, "信用卡年费怎么收？", "101"))
        r = _post(client, first)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml"), r.text
        answer = wx.parse(r.text)["Content"]
        stored = counts()
        # WeChat retrying the same callback: the same answer, nothing stored again.
        again = _post(client, first)
        assert again.status_code == 200 and wx.parse(again.text)["Content"] == answer
        assert counts() == stored
        # The same signed query string with another body: a forgery, refused.
        forged = type(first)(first.params, text_xml(openid, "帮我转账一万元", "102"))
        r = _post(client, forged)
        assert r.status_code == 403 and r.json()["error"]["code"] == "wechat_replayed"
        # Well signed, but from ten minutes ago (the tolerance is five).
        old = wechat.plain_callback(text_xml(openid, "你好", "103"), timestamp=int(time.time()) - 600)
        r = _post(client, old)
        assert r.status_code == 403 and r.json()["error"]["code"] == "wechat_replayed"
        assert counts() == stored
        # A fresh callback is answered.
        assert _post(client, wechat.plain_callback(text_xml(openid, "你好", "104"))).status_code == 200
    finally:
        client_cm.__exit__(None, None, None)
