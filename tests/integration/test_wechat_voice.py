"""WeChat voice messages end to end: encrypted callbacks as WeChat's servers send them, the recording
(AMR, as WeChat keeps it) served by the local fake of WeChat's API, transcribed by the real recogniser
and answered by the real bot through the customer-service message API. WeChat's own transcript
(`Recognition`) is used only when the recording cannot be heard."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helixdesk.channels.wechat.models import WeChatUser
from helixdesk.conversations.models import Message, MessageAudio
from helixdesk.db.session import reading
from helixdesk.edge.app import create_app
from tests.seeded import seeded_database
from tests.speech_audio import encode, speech
from tests.wechat_sim import AES_KEY, APP_ID, APP_SECRET, TOKEN, WeChatServers, fake_wechat_api, media_xml

pytestmark = pytest.mark.slow

MP = "/channels/wechat/mp"


@pytest.fixture(scope="module")
def fake_api():
    with fake_wechat_api() as fake:
        yield fake


@pytest.fixture(scope="module")
def client(tmp_path_factory, model_root, fake_api):
    from helixdesk.core.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('wechat-voice') / 'helixdesk.db'}"
    engine, _ = seeded_database(url)
    engine.dispose()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        model_dir=model_root,
        nlu_process=False,
        wechat_app_id=APP_ID,
        wechat_token=TOKEN,
        wechat_encoding_aes_key=AES_KEY,
        wechat_app_secret=APP_SECRET,
        wechat_api_base=fake_api.url,
        # Every answer through the API: a transcription may take longer than WeChat's 5 s here.
        wechat_reply_budget_seconds=0.0,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _ids() -> tuple[str, str]:
    return "oLVPpjq" + uuid.uuid4().hex[:21], str(uuid.uuid4().int % 10**19)


def _send(client, fake_api, xml: str) -> list[dict]:  # type: ignore[type-arg]
    """Post one callback as WeChat does and wait for what goes out through the API."""
    before = len(fake_api.messages)
    r = client.post(MP, params=(sent := WeChatServers().callback(xml)).params, content=sent.body.encode())
    assert r.status_code == 200 and r.text == "success", r.text
    client.portal.call(client.app.state.container.wechat.settle)
    return fake_api.messages[before:]


def _customer_messages(client, openid: str) -> list[Message]:
    with reading(client.app.state.container.sessions) as s:
        conversation_id = s.scalar(select(WeChatUser.conversation_id).where(WeChatUser.openid == openid))
        rows = s.scalars(
            select(Message).where(Message.conversation_id == conversation_id, Message.sender == "customer")
        ).all()
        for row in rows:
            s.expunge(row)
        return list(rows)


def _bot_texts(client, message_id: str) -> list[str]:
    with reading(client.app.state.container.sessions) as s:
        return list(
            s.scalars(select(Message.text).where(Message.in_reply_to == message_id).order_by(Message.seq))
        )


def test_a_voice_message_is_downloaded_transcribed_and_answered_once(client, fake_api):
    openid, msg_id = _ids()
    fake_api.media["MEDIA_LOST_CARD"] = recording = encode(
        speech("I lost my debit card, please block it", "en", 8000), 8000, "amr"
    )
    # WeChat's own transcript is there too, but ours is used while the recording can be heard.
    xml = media_xml(openid, "voice", "MEDIA_LOST_CARD", msg_id, recognition="WeChat heard this")
    sent = _send(client, fake_api, xml)
    [message] = _customer_messages(client, openid)
    assert message.meta["kind"] == "voice" and "card" in message.text.lower() and "WeChat" not in message.text
    assert message.client_message_id == f"wx:{msg_id}"
    assert message.meta["voice"]["wechat_media_id"] == "MEDIA_LOST_CARD"
    assert message.meta["voice"]["content_type"] == "audio/amr"
    assert message.meta["nlu"]["intent"]["name"] == "card_lost_or_stolen"
    answers = _bot_texts(client, message.id)
    assert answers and [m["text"]["content"] for m in sent] == answers
    assert all(m["touser"] == openid for m in sent)
    with reading(client.app.state.container.sessions) as s:
        stored = s.scalar(select(MessageAudio).where(MessageAudio.message_id == message.id))
        assert stored is not None and stored.size == len(recording)
    assert [c["media_id"] for c in fake_api.media_calls].count("MEDIA_LOST_CARD") == 1

    # WeChat retries the callback: nothing downloaded, stored or sent again.
    assert _send(client, fake_api, xml) == []
    assert [c["media_id"] for c in fake_api.media_calls].count("MEDIA_LOST_CARD") == 1
    assert len(_customer_messages(client, openid)) == 1


def test_wechats_recognition_stands_in_when_the_recording_cannot_be_had(client, fake_api):
    openid, msg_id = _ids()
    xml = media_xml(openid, "voice", "MEDIA_EXPIRED", msg_id, recognition="信用卡年费怎么收？")
    sent = _send(client, fake_api, xml)
    [message] = _customer_messages(client, openid)
    assert message.text == "信用卡年费怎么收？" and "voice" not in message.meta
    assert "年费" in "".join(m["text"]["content"] for m in sent)
    assert "MEDIA_EXPIRED" in [c["media_id"] for c in fake_api.media_calls]


def test_a_recording_that_does_not_decode_and_no_recognition_asks_the_customer_to_type(client, fake_api):
    openid, msg_id = _ids()
    fake_api.media["MEDIA_BROKEN"] = b"#!AMR\n" + bytes(range(256)) * 4
    sent = _send(client, fake_api, media_xml(openid, "voice", "MEDIA_BROKEN", msg_id))
    [message] = _customer_messages(client, openid)
    assert message.text == "[语音]" and message.meta["wechat"]["media_id"] == "MEDIA_BROKEN"
    assert len(sent) == 1 and "语音" in sent[0]["text"]["content"]
