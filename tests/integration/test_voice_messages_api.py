"""A voice message through the real API: real decoding and speech recognition, the real app, NLU and
bank (SQLite and PostgreSQL).

The customer's recording (espeak-ng speech, encoded as the app or a browser would) is transcribed,
and the transcript goes through the same turn as typed words: the same understanding and answer.
The message keeps the transcript as its text and the recording only encrypted; staff open the
recording for a stated reason, audited. Bad recordings are refused with their codes, storing
nothing. Each transcription takes seconds on two cores, so the tests make few."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helixdesk.conversations.models import Message, MessageAudio
from helixdesk.conversations.originals import aad, original_column
from helixdesk.conversations.voice import open_recording
from helixdesk.db.session import make_engine, make_session_factory, reading
from helixdesk.edge.app import create_app
from helixdesk.privacy.crypto import Keyring, generate_key
from helixdesk.privacy.rotation import rotate
from helixdesk.speech.audio import wav_bytes
from tests.console_login import sign_in
from tests.speech_audio import encode, speech, tone

pytestmark = pytest.mark.slow

KEY = generate_key("aud1")
LOST_CARD = "I lost my debit card, please block it"


@pytest.fixture
def app(db_url, settings_for):
    with TestClient(create_app(settings_for(db_url, encryption_keys=KEY))) as client:
        yield client


@pytest.fixture
def stored(db_url):
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def start(client: TestClient, *, ref: str | None = None, language: str | None = None):
    body = {
        "channel": "web",
        **({"customer_ref": ref} if ref else {}),
        **({"language": language} if language else {}),
    }
    r = client.post("/api/v1/conversations", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}


def send_audio(
    client, conv, headers, data: bytes, *, name: str = "note.m4a", client_message_id: str | None = None
):  # type: ignore[no-untyped-def]
    form = {"client_message_id": client_message_id} if client_message_id else {}
    return client.post(
        f"/api/v1/conversations/{conv}/audio",
        files={"audio": (name, data, "application/octet-stream")},
        data=form,
        headers=headers,
    )


def test_a_voice_note_is_answered_as_the_typed_words_and_kept_only_encrypted(app, stored, db_url):
    from helixdesk.audit.service import AuditQuery, search

    note = encode(speech(LOST_CARD, "en", 16000), 16000, "m4a")
    conv, headers = start(app)
    r = send_audio(app, conv, headers, note)
    assert r.status_code == 200, r.text
    voiced = r.json()
    message = voiced["message"]
    assert message["kind"] == "voice" and "card" in message["text"].lower()
    assert message["voice"]["language"] == "en" and 2 < message["voice"]["duration_s"] < 6
    assert 0 < message["voice"]["confidence"] <= 1

    # The same words typed in another conversation: the same understanding and the same answer.
    typed_conv, typed_headers = start(app)
    typed = app.post(
        f"/api/v1/conversations/{typed_conv}/messages", json={"text": message["text"]}, headers=typed_headers
    ).json()
    assert [x["text"] for x in voiced["replies"]] == [x["text"] for x in typed["replies"]]
    with reading(stored) as s:
        msg = s.get(Message, message["id"])
        twin = s.get(Message, typed["message"]["id"])
        assert msg is not None and twin is not None
        assert msg.meta["nlu"]["intent"] == twin.meta["nlu"]["intent"]
        assert msg.meta["nlu"]["intent"]["name"] == "card_lost_or_stolen"
        assert msg.meta["voice"]["content_type"] == "audio/mp4"
        row = s.scalar(select(MessageAudio).where(MessageAudio.message_id == msg.id))
        assert row is not None
        token, audio_id, digest = row.data, row.id, row.sha256
    # The recording is stored only encrypted, bound to its row.
    assert token.startswith("hx1:aud1:") and base64.b64encode(note).decode()[:40] not in token
    assert base64.b64decode(Keyring.parse(KEY).decrypt(token, aad=aad(MessageAudio, audio_id))) == note
    assert digest == hashlib.sha256(note).hexdigest()

    # Staff see the transcript and that it was spoken; the recording opens only for a reason.
    assert app.post(f"/api/v1/conversations/{conv}/handoff", headers=headers).json()["state"] == (
        "waiting_for_agent"
    )
    url = f"/console/api/conversations/{conv}/audio/{message['id']}"
    assert app.post(url, json={"reason": "to hear the customer"}, headers=headers).status_code == 401
    app.app.state.container.staff.create_user(
        username="agent.voice", password="correct horse battery staple", display_name="Agent", roles=["agent"]
    )
    app.follow_redirects = False  # the sign-in answers with a redirect
    sign_in(app, "agent.voice", "correct horse battery staple")  # later calls carry its CSRF token
    line = next(
        m
        for m in app.get(f"/console/api/conversations/{conv}").json()["messages"]
        if m["id"] == message["id"]
    )
    assert line["voice"]["language"] == "en" and line["text"] == message["text"]
    assert "🎤" in app.get(f"/console/conversations/{conv}").text
    blank = app.post(url, json={"reason": "    "})
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "reveal_reason_required"
    opened = app.post(url, json={"reason": "the transcript may have misheard the card"})
    assert opened.status_code == 200, opened.text
    assert opened.content == note and opened.headers["content-type"] == "audio/mp4"
    assert opened.headers["cache-control"] == "no-store"
    with app.app.state.container.sessions() as s:
        entry = next(iter(search(s, AuditQuery(action="audio.opened", target_id=conv))))
    assert entry.reason == "the transcript may have misheard the card" and entry.actor.kind == "staff"
    # The bot's reply in the same conversation has no recording.
    missing = app.post(
        f"/console/api/conversations/{conv}/audio/{voiced['replies'][0]['message']['id']}",
        json={"reason": "listen to it"},
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "audio_not_found"

    # Key rotation re-encrypts the recordings.
    newer = generate_key("aud2")
    assert (
        rotate(
            stored, Keyring.parse(f"{KEY},{newer}", active="aud2"), columns=[original_column(MessageAudio)]
        )
        == 1
    )
    assert open_recording(stored, Keyring.parse(newer), message["id"]).data == note


def test_mandarin_in_a_traditional_chinese_conversation_and_a_resent_note(app, stored):
    note = encode(speech("我想查询账户余额", "zh-Hans", 16000), 16000, "ogg")
    conv, headers = start(app, language="zh-Hant")
    r = send_audio(app, conv, headers, note, name="note.ogg", client_message_id="v-1")
    assert r.status_code == 200, r.text
    first = r.json()
    assert "餘額" in first["message"]["text"] and first["message"]["voice"]["language"] == "zh-Hant"
    assert first["replies"]
    # The app sends it again (a lost response): the same message and answer, stored once.
    again = send_audio(app, conv, headers, note, name="note.ogg", client_message_id="v-1").json()
    assert again["duplicate"] is True and again["message"]["id"] == first["message"]["id"]
    assert [x["text"] for x in again["replies"]] == [x["text"] for x in first["replies"]]
    with reading(stored) as s:
        kept = s.scalars(
            select(Message).where(Message.conversation_id == conv, Message.sender == "customer")
        ).all()
        assert len(kept) == 1 and kept[0].meta["nlu"]["intent"]["name"] == "balance_inquiry"
        assert len(s.scalars(select(MessageAudio).where(MessageAudio.conversation_id == conv)).all()) == 1


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 422, "audio_unreadable"),
        (b"%PDF-1.7 not a recording", 422, "audio_unreadable"),
        (wav_bytes(tone(1.0), 16000)[:30], 422, "audio_unreadable"),
        (wav_bytes(tone(61.0, rate=8000), 8000), 422, "audio_too_long"),
        (wav_bytes(b"\x00\x00" * 32000, 16000), 422, "audio_no_speech"),
    ],
    ids=["empty", "not-audio", "cut-header", "too-long", "silence"],
)
def test_bad_recordings_are_refused_with_a_stable_code_and_nothing_is_stored(app, stored, data, status, code):
    conv, headers = start(app)
    r = send_audio(app, conv, headers, data, name="note.wav")
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    with reading(stored) as s:
        assert s.scalars(select(Message).where(Message.conversation_id == conv)).all() == []
        assert s.scalars(select(MessageAudio)).all() == []


def test_a_recording_over_the_byte_limit_is_refused(db_url, settings_for):
    settings = settings_for(db_url, encryption_keys=KEY, audio_max_bytes=4096)
    with TestClient(create_app(settings)) as client:
        conv, headers = start(client)
        r = send_audio(client, conv, headers, wav_bytes(tone(1.0), 16000), name="note.wav")
        assert r.status_code == 413 and r.json()["error"]["code"] == "audio_too_large"


def test_a_voice_note_needs_the_conversations_token(app):
    conv, _ = start(app)
    r = send_audio(app, conv, {"Authorization": "Bearer nope"}, wav_bytes(tone(1.0), 16000))
    assert r.status_code == 403
