"""An image message through the real API: real OCR, the real app and bank (SQLite and PostgreSQL).

The customer sends a screenshot of one of their own card payments; the stored message keeps the
text read masked and the fields as entities of the turn, the original only encrypted; the bot
asks for the one-time code and then shows that payment. Bad images are refused with their codes.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.conversations.images import image_aad
from helixdesk.conversations.models import Message, MessageImage
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction
from helixdesk.edge.app import create_app
from helixdesk.privacy.crypto import Keyring, generate_key
from tests.ocr_images import charge_lines, draw_lines
from tests.seeded import CustomerPicker

KEY = generate_key("img1")
PHONE = "13912345670"


@pytest.fixture
def app(db_url, settings_for):
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(12))
    engine.dispose()
    with TestClient(create_app(settings_for(db_url, encryption_keys=KEY))) as client:
        yield client


@pytest.fixture
def stored(db_url):
    """Sessions on the test's database, to read what was stored."""
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def start(client: TestClient, ref: str | None) -> tuple[str, dict[str, str]]:
    body = {"channel": "web", **({"customer_ref": ref} if ref else {})}
    r = client.post("/api/v1/conversations", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}


def send_image(client, conv, headers, data: bytes, caption: str = "", name: str = "shot.png"):  # type: ignore[no-untyped-def]
    form = {"caption": caption} if caption else {}
    return client.post(
        f"/api/v1/conversations/{conv}/images",
        files={"image": (name, data, "application/octet-stream")},
        data=form,
        headers=headers,
    )


def squeeze(text: str) -> str:
    return "".join(text.split())


def code_from_outbox(client: TestClient, ref: str) -> str:
    page = client.get("/demo/outbox", params={"customer": ref, "limit": 1})
    body = re.search(r'<td class="body">(.*?)</td>', page.text, re.S)
    assert body, "no notification in the outbox"
    return re.findall(r"(?<!\d)(\d{6})(?!\d)", body.group(1))[0]


def test_a_screenshot_of_a_charge_finds_that_charge_and_is_stored_masked_and_encrypted(app, stored):
    bank = app.app.state.container.bank
    assert isinstance(bank, DemoBankConnector)
    ref, txn = CustomerPicker(bank, customers=12).with_card_debit("zh-Hans")
    conv, headers = start(app, ref)
    lines = [*charge_lines(txn, "zh-Hans"), f"联系电话：{PHONE}"]
    shot = draw_lines(lines)
    r = send_image(app, conv, headers, shot, caption="这笔是什么")
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["message"]["kind"] == "image" and first["message"]["text"] == "这笔是什么"
    assert first["message"]["image"]["kind"] == "charge" and PHONE not in first["message"]["image"]["text"]
    assert "验证码" in first["replies"][0]["text"]

    r = app.post(
        f"/api/v1/conversations/{conv}/messages", json={"text": code_from_outbox(app, ref)}, headers=headers
    )
    assert r.status_code == 200, r.text
    facts = "\n".join(reply["text"] for reply in r.json()["replies"])
    assert txn.merchant in facts and f"{-txn.amount:,.2f}" in facts

    with reading(stored) as s:
        msg = s.get(Message, first["message"]["id"])
        assert msg is not None
        image = msg.meta["image"]
        row = s.scalar(select(MessageImage).where(MessageImage.message_id == msg.id))
        assert row is not None
        token, image_id = row.data, row.id
    # The text read is kept with the phone number masked; the fields are the turn's entities.
    assert PHONE not in str(msg.meta) and PHONE[-4:] in image["text"]
    # OCR may drop the spaces inside a line; the lookup compares names without them.
    assert squeeze(image["fields"]["merchant"]) == squeeze(txn.merchant)
    assert image["fields"]["amount"] == f"{-txn.amount:.2f}"
    assert image["kind"] == "charge"
    types = {e["type"]: e["value"] for e in msg.meta["nlu"]["entities"]}
    assert squeeze(types["merchant"]) == squeeze(txn.merchant) and types["card_tail"] == txn.card_last4
    assert msg.meta["nlu"]["intent"]["name"] == "unrecognized_transaction"
    # The original is stored only encrypted, bound to its row.
    assert token.startswith("hx1:img1:") and base64.b64encode(shot).decode()[:40] not in token
    assert base64.b64decode(Keyring.parse(KEY).decrypt(token, aad=image_aad(image_id))) == shot


def test_a_phone_number_read_into_a_field_is_masked_wherever_the_field_is_kept(app, stored):
    """A "merchant" that is a person's name and phone number: the field, the turn's entities, the
    API's message and the bot's reply all carry it masked, as the text read does."""
    conv, headers = start(app, None)
    lines = ["交易成功", f"商户：张三 {PHONE}", "金额：¥88.00", "交易时间：2026-11-30 12:01"]
    r = send_image(app, conv, headers, draw_lines(lines), caption="这是什么")
    assert r.status_code == 200, r.text
    assert PHONE not in r.text
    message = r.json()["message"]
    assert PHONE[-4:] in message["image"]["fields"]["merchant"]  # read, and masked
    with reading(stored) as s:
        msg = s.get(Message, message["id"])
        assert msg is not None
        kept = str(msg.meta)
    assert PHONE not in kept and "merchant" in kept


def test_an_error_screen_without_words_gets_what_was_read_and_a_question(app):
    conv, headers = start(app, None)
    r = send_image(app, conv, headers, draw_lines(["登录失败", "错误代码：E1023", "请稍后重试"], fmt="JPEG"))
    assert r.status_code == 200, r.text
    reply = r.json()["replies"][0]["text"]
    assert "E1023" in reply and "什么操作" in reply


@pytest.mark.parametrize(
    ("language", "lines", "said"),
    [
        ("en", ["Weekly team lunch", "Room 4B"], ["Weekly team lunch", "What would you like"]),
        ("zh-Hant", ["錯誤代碼：NET-502"], ["錯誤代碼：NET-502", "甚麼操作"]),
    ],
)
def test_an_image_without_words_gets_what_was_read_in_the_conversations_language(app, language, lines, said):
    r = app.post("/api/v1/conversations", json={"channel": "web", "language": language})
    conv, headers = r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}
    r = send_image(app, conv, headers, draw_lines(lines, fmt="WEBP"))
    assert r.status_code == 200, r.text
    reply = r.json()["replies"][0]["text"]
    for words in said:
        assert words in reply


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"%PDF-1.7 not an image", 422, "image_invalid"),
        (b"", 422, "image_invalid"),
        (_png(64, 64)[:40], 422, "image_invalid"),
        (_png(8, 400), 422, "image_dimensions_invalid"),
    ],
)
def test_bad_images_are_refused_with_a_stable_code_and_nothing_is_stored(app, stored, data, status, code):
    conv, headers = start(app, None)
    r = send_image(app, conv, headers, data)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    with reading(stored) as s:
        assert s.scalars(select(Message).where(Message.conversation_id == conv)).all() == []


def test_an_image_over_the_byte_limit_is_refused(db_url, settings_for):
    with TestClient(create_app(settings_for(db_url, encryption_keys=KEY, image_max_bytes=2048))) as client:
        conv, headers = start(client, None)
        r = send_image(client, conv, headers, draw_lines(["x" * 200] * 20))
        assert r.status_code == 413 and r.json()["error"]["code"] == "image_too_large"


def test_an_image_needs_the_conversations_token(app):
    conv, _ = start(app, None)
    r = send_image(app, conv, {"Authorization": "Bearer nope"}, _png(64, 64))
    assert r.status_code == 403


def _sign_in(client: TestClient, username: str, password: str) -> str:
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/console"},
        follow_redirects=False,
    )
    page = client.get("/console")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


def test_staff_open_the_original_only_with_a_reason_and_it_is_audited(app):
    from helixdesk.audit.service import AuditQuery, search

    conv, headers = start(app, "C000001")
    shot = draw_lines(["登录失败", "错误代码：E1023"])
    sent = send_image(app, conv, headers, shot).json()["message"]
    assert (
        app.post(f"/api/v1/conversations/{conv}/handoff", headers=headers).json()["state"]
        == "waiting_for_agent"
    )
    # The customer's own token does not open the original.
    url = f"/console/api/conversations/{conv}/images/{sent['id']}"
    assert app.post(url, json={"reason": "to check the error screen"}, headers=headers).status_code == 401
    password = "correct horse battery staple"
    app.app.state.container.staff.create_user(
        username="agent.img", password=password, display_name="Agent", roles=["agent"]
    )
    csrf = {"X-CSRF-Token": _sign_in(app, "agent.img", password)}
    # The agent reads the text of the image (masked) and its fields on the message itself.
    seen = app.get(f"/console/api/conversations/{conv}").json()["messages"]
    image_line = next(m for m in seen if m["id"] == sent["id"])
    assert image_line["image"]["kind"] == "error" and "E1023" in image_line["image"]["text"]
    assert image_line["image"]["fields"] == {"error_code": "E1023"}
    page = app.get(f"/console/conversations/{conv}")
    assert "错误代码：E1023" in page.text
    short = app.post(url, json={"reason": "x"}, headers=csrf)
    assert short.status_code == 422 and short.json()["error"]["code"] == "invalid_request"
    blank = app.post(url, json={"reason": "    "}, headers=csrf)
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "reveal_reason_required"
    opened = app.post(url, json={"reason": "customer says the app shows this error"}, headers=csrf)
    assert opened.status_code == 200, opened.text
    assert opened.content == shot and opened.headers["content-type"] == "image/png"
    assert opened.headers["cache-control"] == "no-store"
    with app.app.state.container.sessions() as s:
        entries = search(s, AuditQuery(customer_ref="C000001"))
    entry = next(e for e in entries if e.action == "image.opened")
    assert entry.reason == "customer says the app shows this error" and entry.actor.kind == "staff"
    missing = app.post(
        f"/console/api/conversations/{conv}/images/nope", json={"reason": "looking at it"}, headers=csrf
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "image_not_found"


def test_key_rotation_re_encrypts_the_originals(app, stored):
    from helixdesk.conversations.images import image_column, open_original
    from helixdesk.privacy.rotation import rotate

    conv, headers = start(app, None)
    shot = draw_lines(["Weekly team lunch"])
    sent = send_image(app, conv, headers, shot).json()["message"]
    newer = generate_key("img2")
    both = Keyring.parse(f"{KEY},{newer}", active="img2")
    assert rotate(stored, both, columns=[image_column()]) == 1
    with reading(stored) as s:
        row = s.scalar(select(MessageImage).where(MessageImage.message_id == sent["id"]))
        assert row is not None and row.data.startswith("hx1:img2:")
    assert open_original(stored, Keyring.parse(newer), sent["id"]).data == shot


def test_a_retried_image_is_answered_from_what_was_stored_without_reading_it_again(app, stored):
    conv, headers = start(app, None)
    shot = draw_lines(["登录失败", "错误代码：E1023", "请稍后重试"])
    reader = app.app.state.container.images.reader

    def send(client_message_id: str):  # type: ignore[no-untyped-def]
        return app.post(
            f"/api/v1/conversations/{conv}/images",
            files={"image": ("shot.png", shot, "image/png")},
            data={"client_message_id": client_message_id},
            headers=headers,
        )

    first = send("img-retry-1")
    assert first.status_code == 200, first.text
    reads = reader.reads
    again = send("img-retry-1")
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["message"]["id"] == first.json()["message"]["id"]
    assert [r["text"] for r in again.json()["replies"]] == [r["text"] for r in first.json()["replies"]]
    assert reader.reads == reads  # answered from what was stored: the image was not read again
    with reading(stored) as s:
        kept = s.scalars(select(MessageImage.message_id).where(MessageImage.conversation_id == conv)).all()
    assert kept == [first.json()["message"]["id"]]
    # A new message id is read.
    assert send("img-retry-2").status_code == 200 and reader.reads == reads + 1


def test_the_ocr_reads_the_pixels_decoded_by_the_check(app):
    """The image is decoded once, by the check: the OCR works from those pixels, not the file."""
    from dataclasses import replace

    from helixdesk.ocr.reader import check_image

    checked = check_image(draw_lines(["错误代码：E1023"]), max_bytes=10**6, max_pixels=10**7)
    read = app.app.state.container.images.reader.read(replace(checked, data=b""))
    assert read.fields.error_code == "E1023"
