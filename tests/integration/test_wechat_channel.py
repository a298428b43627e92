"""The WeChat channel end to end: callbacks signed and encrypted as WeChat's servers do, posted to the
real app (real NLU, dialogue, demo bank), the encrypted replies decrypted and checked with wechatpy;
late answers through a local fake of WeChat's API; binding an openid with a one-time code."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from helixdesk.audit.models import AuditLogRow
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.channels.wechat.models import WeChatDelivery, WeChatUser
from helixdesk.conversations.images import image_aad
from helixdesk.conversations.models import Conversation, Customer, Message, MessageImage
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading, transaction
from helixdesk.edge.app import create_app
from helixdesk.privacy.crypto import Keyring, generate_key
from tests.console_login import sign_in
from tests.ocr_images import charge_lines, draw_lines
from tests.seeded import CustomerPicker, seeded_database
from tests.wechat_sim import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    CORP_ID,
    TOKEN,
    WeChatServers,
    event_xml,
    fake_wechat_api,
    media_xml,
    text_xml,
)

pytestmark = pytest.mark.slow

MP = "/channels/wechat/mp"
PASSWORD = "wechat-console-pass-1"
KEY = generate_key("wx1")


def _settings(url, model_root, api_base, budget):
    from helixdesk.core.settings import Settings

    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        model_dir=model_root,
        nlu_process=False,
        wechat_app_id=APP_ID,
        wechat_token=TOKEN,
        wechat_encoding_aes_key=AES_KEY,
        wechat_app_secret=APP_SECRET,
        wechat_api_base=api_base,
        wecom_corp_id=CORP_ID,
        wecom_agent_id=1000002,
        wecom_token=TOKEN,
        wecom_encoding_aes_key=AES_KEY,
        wecom_secret=APP_SECRET,
        wecom_api_base=api_base,
        wechat_reply_budget_seconds=budget,
        wechat_picture_hosts="127.0.0.1",  # the fake API's picture host stands in for WeChat's CDN
        encryption_keys=KEY,
    )


@pytest.fixture(scope="module")
def fake_api():
    with fake_wechat_api() as fake:
        yield fake


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("wechat") / "helixdesk.db"
    url = f"sqlite:///{path}"
    engine, _ = seeded_database(url)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def client(seeded_url, model_root, fake_api):
    app = create_app(_settings(seeded_url, model_root, fake_api.url, 4.0))
    with TestClient(app) as c:
        yield c


def _openid() -> str:
    return "oLVPpjq" + uuid.uuid4().hex[:21]


def _msg_id() -> str:
    return str(uuid.uuid4().int % 10**19)


def _post(client: TestClient, sent, path: str = MP):
    return client.post(
        path, params=sent.params, content=sent.body.encode(), headers={"Content-Type": "text/xml"}
    )


def _chat(client, wechat, openid, text, msg_id=None, *, oracle=False) -> dict[str, str]:
    r = _post(client, wechat.callback(text_xml(openid, text, msg_id or _msg_id()), oracle=oracle))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml"), r.text
    return wechat.open_reply(r.text)


def _count(client, stmt) -> int:
    with reading(client.app.state.container.sessions) as s:
        return int(s.scalar(stmt) or 0)


def _conversation_of(client, openid) -> str:
    with reading(client.app.state.container.sessions) as s:
        cid = s.scalar(select(WeChatUser.conversation_id).where(WeChatUser.openid == openid))
    assert cid is not None
    return cid


def _bot_texts(client, conversation_id) -> list[str]:
    with reading(client.app.state.container.sessions) as s:
        return list(
            s.scalars(
                select(Message.text)
                .where(Message.conversation_id == conversation_id, Message.sender == "bot")
                .order_by(Message.seq)
            )
        )


# ---- the URL check --------------------------------------------------------------------------------


def test_url_check_official_account_and_wecom(client):
    wechat = WeChatServers()
    sent = wechat.callback("<xml/>")
    r = client.get(
        MP, params={**{k: sent.params[k] for k in ("signature", "timestamp", "nonce")}, "echostr": "e42"}
    )
    assert r.status_code == 200 and r.text == "e42"
    r = client.get(MP, params={"signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "e42"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "wechat_bad_signature"

    work = WeChatServers(app_id=CORP_ID)
    echostr = work.ours.encrypt("5927782489442352469")
    params = {"timestamp": "1409659813", "nonce": "1372623149", "echostr": echostr}
    params["msg_signature"] = work.ours.msg_signature(params["timestamp"], params["nonce"], echostr)
    r = client.get("/channels/wechat/work", params=params)
    assert r.status_code == 200 and r.text == "5927782489442352469"
    # An echostr encrypted for the official account (another id) is refused by the WeCom app.
    other = WeChatServers().ours.encrypt("1")
    params = {
        "timestamp": "1",
        "nonce": "2",
        "echostr": other,
        "msg_signature": work.ours.msg_signature("1", "2", other),
    }
    r = client.get("/channels/wechat/work", params=params)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wechat_appid_mismatch"


# ---- messages and passive replies -----------------------------------------------------------------


def test_chinese_and_english_questions_get_the_bots_answer_encrypted(client):
    wechat = WeChatServers()
    openid = _openid()
    fields = _chat(client, wechat, openid, "信用卡年费怎么收？")
    assert fields["ToUserName"] == openid and fields["FromUserName"] == "gh_helixdesk"
    assert fields["MsgType"] == "text"
    conversation_id = _conversation_of(client, openid)
    answers = _bot_texts(client, conversation_id)
    assert fields["Content"] == "\n\n".join(answers) and re.search(r"[\u4e00-\u9fff]", fields["Content"])
    assert "年费" in fields["Content"]

    # The same customer in English, encrypted by wechatpy this time: the same conversation.
    fields = _chat(client, wechat, openid, "What is the annual fee of the credit card?", oracle=True)
    assert "annual fee" in fields["Content"].lower()
    assert _conversation_of(client, openid) == conversation_id
    with reading(client.app.state.container.sessions) as s:
        conv = s.get(Conversation, conversation_id)
        assert conv is not None and conv.channel == "wechat"


def test_a_retried_msgid_is_stored_and_answered_once(client):
    wechat = WeChatServers()
    openid, msg_id = _openid(), _msg_id()
    first = _chat(client, wechat, openid, "你们的客服电话是多少？", msg_id)
    conversation_id = _conversation_of(client, openid)
    bot_before = _bot_texts(client, conversation_id)
    for _ in range(3):  # WeChat retries three times
        again = _chat(client, wechat, openid, "你们的客服电话是多少？", msg_id)
        assert again["Content"] == first["Content"]
    assert (
        _count(
            client,
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == conversation_id, Message.client_message_id == f"wx:{msg_id}"),
        )
        == 1
    )
    assert _bot_texts(client, conversation_id) == bot_before


def test_tampered_wrong_account_and_bad_xml_are_refused_and_nothing_is_stored(client):
    wechat = WeChatServers()
    openid = _openid()
    before = _count(client, select(func.count()).select_from(Message))
    users = _count(client, select(func.count()).select_from(WeChatUser))

    sent = wechat.callback(text_xml(openid, "余额多少", _msg_id()))
    sig = sent.params["msg_signature"]
    sent.params["msg_signature"] = sig[:-1] + ("a" if sig[-1] != "a" else "b")
    r = _post(client, sent)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wechat_bad_signature"

    sent = wechat.callback(text_xml(openid, "余额多少", _msg_id()))
    sent.body = sent.body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[A")
    assert _post(client, sent).status_code in (400, 403)

    other = WeChatServers(app_id="wx0000000000000000")
    r = _post(client, other.callback(text_xml(openid, "余额多少", _msg_id())))
    assert r.status_code == 403 and r.json()["error"]["code"] == "wechat_appid_mismatch"

    for body in ("<xml><A>", "<!DOCTYPE x><xml/>", "not xml"):
        sent = wechat.callback("<xml/>")
        sent.body = body
        r = _post(client, sent)
        assert r.status_code == 400 and r.json()["error"]["code"] == "wechat_bad_xml"
    # Well signed and encrypted, but not a WeChat message.
    r = _post(client, wechat.callback("<xml><Content>hi</Content></xml>"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "wechat_bad_xml"
    # Plain text to an account in safe mode.
    sent = wechat.callback(text_xml(openid, "hi", _msg_id()))
    sent.body = text_xml(openid, "hi", _msg_id())
    r = _post(client, sent)
    assert r.status_code == 400 and r.json()["error"]["code"] == "wechat_bad_xml"

    assert _count(client, select(func.count()).select_from(Message)) == before
    assert _count(client, select(func.count()).select_from(WeChatUser)) == users


def test_pictures_voice_and_subscribe(client):
    wechat = WeChatServers()
    openid = _openid()
    r = _post(client, wechat.callback(event_xml(openid, "subscribe")))
    welcome = wechat.open_reply(r.text)["Content"]
    assert "欢迎" in welcome
    # A retried event (no MsgId: FromUserName + CreateTime) is stored once.
    r = _post(client, wechat.callback(event_xml(openid, "subscribe")))
    assert wechat.open_reply(r.text)["Content"] == welcome

    image_id = _msg_id()
    r = _post(client, wechat.callback(media_xml(openid, "image", "MEDIA_IMG_1", image_id)))
    assert "图片" in wechat.open_reply(r.text)["Content"]
    r = _post(client, wechat.callback(media_xml(openid, "voice", "MEDIA_VOICE_1", _msg_id())))
    assert "语音" in wechat.open_reply(r.text)["Content"]
    _post(client, wechat.callback(media_xml(openid, "image", "MEDIA_IMG_1", image_id)))

    conversation_id = _conversation_of(client, openid)
    with reading(client.app.state.container.sessions) as s:
        rows = s.execute(
            select(Message.sender, Message.text, Message.meta)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.seq)
        ).all()
    customer = [(t, m) for who, t, m in rows if who == "customer"]
    assert [t for t, _ in customer] == ["[图片]", "[语音]"]
    assert customer[0][1]["wechat"]["media_id"] == "MEDIA_IMG_1"
    assert customer[1][1]["wechat"] == {
        "type": "voice",
        "media_id": "MEDIA_VOICE_1",
        "pic_url": "",
        "format": "amr",
    }
    assert [t for who, t, _ in rows if who == "system"] == ["[subscribe]"]


# ---- binding --------------------------------------------------------------------------------------


def _latest_code(client, ref: str) -> str:
    client.portal.call(client.app.state.container.wechat.settle)  # the code goes out beside the answer
    entries = client.app.state.container.outbox.latest(customer_ref=ref, limit=1)
    assert entries, "no code was sent"
    found = re.findall(r"(?<!\d)(\d{6})(?!\d)", entries[0].body)
    assert found
    return found[0]


def test_binding_with_a_one_time_code_gives_the_conversation_the_customer(client):
    wechat = WeChatServers()
    openid = _openid()
    ref = "C000007"
    assert client.app.state.container.bank.get_customer(ref) is not None
    assert "客户号" in _chat(client, wechat, openid, "绑定")["Content"]
    anonymous = _conversation_of(client, openid)
    assert "验证码" in _chat(client, wechat, openid, ref)["Content"]
    code = _latest_code(client, ref)
    wrong = "000000" if code != "000000" else "111111"
    assert "不正确" in _chat(client, wechat, openid, f"验证码 {wrong}")["Content"]
    assert "绑定成功" in _chat(client, wechat, openid, code)["Content"]

    with reading(client.app.state.container.sessions) as s:
        user = s.scalar(select(WeChatUser).where(WeChatUser.openid == openid))
        assert user is not None and user.customer_ref == ref and user.bound_at is not None
        audit = s.scalars(select(AuditLogRow).where(AuditLogRow.action == "wechat.bound")).all()
        assert any(a.customer_ref == ref for a in audit)
        # The code is not kept in the transcript.
        texts = list(s.scalars(select(Message.text).where(Message.conversation_id == anonymous)))
        assert code not in " ".join(texts)

    # The next message goes to a conversation of the bank customer, on the WeChat channel.
    _chat(client, wechat, openid, "我的账户余额是多少？")
    bound = _conversation_of(client, openid)
    assert bound != anonymous
    with reading(client.app.state.container.sessions) as s:
        row = s.execute(
            select(Conversation.channel, Customer.bank_ref)
            .join(Customer, Customer.id == Conversation.customer_id)
            .where(Conversation.id == bound)
        ).one()
    assert tuple(row) == ("wechat", ref)
    # Asking again says it is bound already.
    assert "已绑定" in _chat(client, wechat, openid, "绑定")["Content"]

    # The customer opens web chat (the bank's web back end knows who they are): the agent console
    # lists their WeChat conversation beside it, with its channel.
    _, key = client.app.state.container.api_keys.create(name="web back end", channel="web")
    r = client.post(
        "/api/v1/conversations", json={"channel": "web", "customer_ref": ref}, headers={"X-Api-Key": key}
    )
    assert r.status_code == 201, r.text
    web = r.json()["id"]
    client.app.state.container.staff.create_user(
        username="wx-supervisor", password=PASSWORD, display_name="Supervisor", roles=["supervisor"]
    )
    console = TestClient(client.app, follow_redirects=False)  # a browser of its own, on the same app
    sign_in(console, "wx-supervisor", PASSWORD)
    view = console.get(f"/console/api/conversations/{web}")
    assert view.status_code == 200, view.text
    past = {c["id"]: c for c in view.json()["past"]}
    assert past[bound]["channel"] == "wechat" and past[bound]["messages"] >= 2
    page = console.get(f"/console/conversations/{web}")
    assert page.status_code == 200
    listed = re.search(r'<section class="panel" id="past">(.*?)</section>', page.text, re.S)
    assert listed and f"/console/conversations/{bound}" in listed.group(1) and "微信" in listed.group(1)

    # "解绑" removes the binding (audited); the next message is an anonymous visitor's again.
    assert "已解除绑定" in _chat(client, wechat, openid, "解绑")["Content"]
    _chat(client, wechat, openid, "信用卡年费怎么收？")
    after = _conversation_of(client, openid)
    with reading(client.app.state.container.sessions) as s:
        ref_after = s.scalar(
            select(Customer.bank_ref)
            .join(Conversation, Conversation.customer_id == Customer.id)
            .where(Conversation.id == after)
        )
        assert s.scalar(select(WeChatUser.customer_ref).where(WeChatUser.openid == openid)) is None
        unbound = s.scalars(select(AuditLogRow).where(AuditLogRow.action == "wechat.unbound")).all()
    assert after not in (bound, anonymous) and ref_after is None
    assert any(a.customer_ref == ref for a in unbound)
    assert "尚未绑定" in _chat(client, wechat, openid, "解绑")["Content"]


def test_known_and_unknown_numbers_are_answered_alike_in_the_callback(client):
    """A known customer number and one nobody has, each tried from two openids within the resend
    interval (the second gets no code: too soon), then a wrong code: the same answers, each in the
    callback itself (a passive reply: `_chat` checks it), one code sent, nobody bound."""
    wechat = WeChatServers()
    known = "C000011"
    container = client.app.state.container
    assert container.bank.get_customer(known) is not None and container.bank.get_customer("C999999") is None
    first = _openid()
    asked = _chat(client, wechat, first, "bind")["Content"]
    said_first = _chat(client, wechat, first, known)["Content"]
    code = _latest_code(client, known)
    wrong = "000000" if code != "000000" else "111111"
    answers = {(known, 0): [asked, said_first, _chat(client, wechat, first, wrong)["Content"]]}
    for number, attempt in ((known, 1), ("C999999", 0), ("C999999", 1)):
        openid = _openid()
        answers[(number, attempt)] = [
            _chat(client, wechat, openid, t)["Content"] for t in ("bind", number, wrong)
        ]
    assert len({tuple(a) for a in answers.values()}) == 1, answers
    assert "code was sent" in said_first and "tries left" in answers[(known, 0)][2]
    client.portal.call(container.wechat.settle)
    assert len(container.outbox.latest(customer_ref=known, limit=5)) == 1
    with reading(container.sessions) as s:
        assert (
            s.scalar(select(func.count()).select_from(WeChatUser).where(WeChatUser.customer_ref == known))
            == 0
        )


# ---- the slow path: the customer-service API ------------------------------------------------------


@pytest.fixture(scope="module")
def slow_client(seeded_url, model_root, fake_api):
    app = create_app(_settings(seeded_url, model_root, fake_api.url, 0.0))
    with TestClient(app) as c:
        yield c


def test_late_answers_go_out_through_the_customer_service_api_once(slow_client, fake_api):
    wechat = WeChatServers()
    openid, msg_id = _openid(), _msg_id()
    before = len(fake_api.messages)
    r = _post(slow_client, wechat.callback(text_xml(openid, "信用卡年费怎么收？", msg_id)))
    assert r.status_code == 200 and r.text == "success"
    container = slow_client.app.state.container
    slow_client.portal.call(container.wechat.settle)
    sent = fake_api.wait_for(before + 1)[before:]
    conversation_id = _conversation_of(slow_client, openid)
    answers = _bot_texts(slow_client, conversation_id)
    assert [m["text"]["content"] for m in sent] == answers
    assert all(m["touser"] == openid and m["path"] == "/cgi-bin/message/custom/send" for m in sent)
    assert fake_api.token_calls and fake_api.token_calls[0]["appid"] == APP_ID
    assert fake_api.token_calls[0]["secret"] == APP_SECRET
    assert fake_api.tokens_seen[-1].startswith("TOKEN-")

    # WeChat retries: "success" again, nothing sent twice.
    r = _post(slow_client, wechat.callback(text_xml(openid, "信用卡年费怎么收？", msg_id)))
    assert r.text == "success"
    slow_client.portal.call(container.wechat.settle)
    assert len(fake_api.messages) == before + len(sent)
    with reading(container.sessions) as s:
        vias = set(
            s.scalars(select(WeChatDelivery.via).where(WeChatDelivery.conversation_id == conversation_id))
        )
    assert vias == {"api"}


def test_wecom_messages_passive_and_through_message_send(client, slow_client, fake_api):
    work = WeChatServers(app_id=CORP_ID)
    userid = "zhangsan" + uuid.uuid4().hex[:6]
    r = _post(
        client,
        work.callback(text_xml(userid, "信用卡年费怎么收？", _msg_id(), to=CORP_ID)),
        "/channels/wechat/work",
    )
    assert r.status_code == 200
    fields = work.open_reply(r.text)
    assert fields["ToUserName"] == userid and "年费" in fields["Content"]

    before = len(fake_api.messages)
    r = _post(
        slow_client,
        work.callback(text_xml(userid, "What is the annual fee of the credit card?", _msg_id(), to=CORP_ID)),
        "/channels/wechat/work",
    )
    assert r.text == "success"
    slow_client.portal.call(slow_client.app.state.container.wechat.settle)
    sent = fake_api.wait_for(before + 1)[before:]
    assert sent and all(m["path"] == "/cgi-bin/message/send" and m["agentid"] == 1000002 for m in sent)
    assert "annual fee" in sent[0]["text"]["content"].lower()
    assert any(c["path"] == "/cgi-bin/gettoken" and c["corpid"] == CORP_ID for c in fake_api.token_calls)


def test_an_agents_reply_reaches_the_wechat_customer_through_the_api(client, fake_api):
    wechat = WeChatServers()
    openid = _openid()
    said = _chat(client, wechat, openid, "我要转人工")["Content"]
    conversation_id = _conversation_of(client, openid)
    with reading(client.app.state.container.sessions) as s:
        state = s.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
    assert state == "waiting_for_agent", said

    client.app.state.container.staff.create_user(
        username="wx-agent", password=PASSWORD, display_name="小李", roles=["agent", "supervisor"]
    )
    console = TestClient(client.app, follow_redirects=False)
    sign_in(console, "wx-agent", PASSWORD)
    assert console.post("/console/api/presence", json={"presence": "online"}).status_code == 200
    r = console.post("/console/api/claim-next")
    assert r.status_code == 200, r.text
    assert r.json()["conversation_id"] == conversation_id
    before = len(fake_api.messages)
    r = console.post(
        f"/console/api/conversations/{conversation_id}/messages",
        json={"text": "您好，我是客服小李，请问有什么可以帮您？"},
    )
    assert r.status_code == 200, r.text
    message_id = r.json()["message"]["id"]
    sent = fake_api.wait_for(before + 1)[before:]
    assert [(m["touser"], m["text"]["content"]) for m in sent] == [
        (openid, "您好，我是客服小李，请问有什么可以帮您？")
    ]
    with reading(client.app.state.container.sessions) as s:
        assert s.scalar(select(WeChatDelivery.via).where(WeChatDelivery.message_id == message_id)) == "api"

    # The customer writes while the agent has the conversation: stored, the bot stays silent.
    r = _post(client, wechat.callback(text_xml(openid, "好的，我的卡被锁了", _msg_id())))
    assert r.status_code == 200 and r.text == "success"


def test_the_bind_menu_starts_binding_and_cancel_stops_it(client):
    wechat = WeChatServers()
    openid = _openid()
    r = _post(client, wechat.callback(event_xml(openid, "CLICK", key="HELIXDESK_BIND", at=1700000100)))
    assert "客户号" in wechat.open_reply(r.text)["Content"]
    assert "已取消" in _chat(client, wechat, openid, "取消")["Content"]
    with reading(client.app.state.container.sessions) as s:
        user = s.scalar(select(WeChatUser).where(WeChatUser.openid == openid))
        assert user is not None and user.bind_step is None and user.customer_ref is None


def test_an_anonymous_account_question_on_wechat_is_told_to_bind(client):
    wechat = WeChatServers()
    said = _chat(client, wechat, _openid(), "查一下我的账户余额")["Content"]
    assert "请先发送“绑定”" in said and "后在线联系我" not in said  # not the web chat's "log in"


# ---- pictures: read like the chat page's images ---------------------------------------------------


def _answer(client, fake_api, wechat, openid: str, r) -> str:  # type: ignore[no-untyped-def]
    """The answer to one callback: in the callback's reply when it was ready within the budget,
    else what went out through the customer-service API (both are how WeChat gets an answer)."""
    assert r.status_code == 200, r.text
    if r.text != "success":
        return wechat.open_reply(r.text)["Content"]
    client.portal.call(client.app.state.container.wechat.settle)
    return "\n\n".join(m["text"]["content"] for m in fake_api.messages if m["touser"] == openid)


def _bound_openid(client, ref: str) -> str:
    """An openid bound to `ref` before (binding itself is tested above; a second one-time code to
    the same customer within a minute would not be sent)."""
    openid = _openid()
    with transaction(client.app.state.container.sessions) as s:
        s.add(WeChatUser(account="mp", openid=openid, customer_ref=ref, bound_at=utcnow()))
    return openid


def test_a_picture_of_a_charge_is_read_and_that_charge_shown_after_the_code(client, fake_api):
    container = client.app.state.container
    assert isinstance(container.bank, DemoBankConnector)
    picker = CustomerPicker(container.bank)
    picker.used |= {"C000007", "C000011"}  # the binding tests' customers
    ref, txn = picker.with_card_debit("zh-Hans")
    wechat = WeChatServers()
    openid = _bound_openid(client, ref)
    shot = draw_lines(charge_lines(txn, "zh-Hans"))
    fake_api.media["MEDIA_CHARGE_1"] = shot
    msg_id = _msg_id()
    reads = container.images.reader.reads
    r = _post(client, wechat.callback(media_xml(openid, "image", "MEDIA_CHARGE_1", msg_id)))
    asked = _answer(client, fake_api, wechat, openid, r)
    assert "验证码" in asked
    assert [c["media_id"] for c in fake_api.media_calls].count("MEDIA_CHARGE_1") == 1
    assert fake_api.media_calls[-1]["access_token"].startswith("TOKEN-")
    assert container.images.reader.reads == reads + 1

    # The one-time code: the bot shows that very payment.
    facts = _chat(client, wechat, openid, _latest_code(client, ref))["Content"]
    assert txn.merchant in facts and f"{-txn.amount:,.2f}" in facts

    conversation_id = _conversation_of(client, openid)
    with reading(container.sessions) as s:
        msg = s.scalar(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.client_message_id == f"wx:{msg_id}"
            )
        )
        assert msg is not None
        row = s.scalar(select(MessageImage).where(MessageImage.message_id == msg.id))
        assert row is not None
        token, image_id = row.data, row.id
    image = msg.meta["image"]
    assert image["kind"] == "charge" and image["source"] == {
        "channel": "wechat",
        "media_id": "MEDIA_CHARGE_1",
    }
    assert "".join(image["fields"]["merchant"].split()) == "".join(txn.merchant.split())
    types = {e["type"]: e["value"] for e in msg.meta["nlu"]["entities"]}
    assert (
        types["card_tail"] == txn.card_last4
        and msg.meta["nlu"]["intent"]["name"] == "unrecognized_transaction"
    )
    assert Keyring.parse(KEY).decrypt(token, aad=image_aad(image_id))  # kept only encrypted
    assert token.startswith("hx1:wx1:")

    # WeChat retries the callback: the same answer, the picture neither fetched nor read again.
    r = _post(client, wechat.callback(media_xml(openid, "image", "MEDIA_CHARGE_1", msg_id)))
    if r.text != "success":
        assert wechat.open_reply(r.text)["Content"] == asked
    assert [c["media_id"] for c in fake_api.media_calls].count("MEDIA_CHARGE_1") == 1
    assert container.images.reader.reads == reads + 1


def test_a_picture_whose_media_id_fails_is_fetched_from_its_pic_url_on_an_allowed_host(client, fake_api):
    wechat = WeChatServers()
    openid = _openid()
    fake_api.pictures["error-screen.png"] = draw_lines(["登录失败", "错误代码：E1023", "请稍后重试"])
    r = _post(
        client,
        wechat.callback(
            media_xml(
                openid, "image", "MEDIA_EXPIRED", _msg_id(), pic_url=f"{fake_api.url}/pic/error-screen.png"
            )
        ),
    )
    said = _answer(client, fake_api, wechat, openid, r)
    assert "E1023" in said and "什么操作" in said
    assert "MEDIA_EXPIRED" in [c["media_id"] for c in fake_api.media_calls]  # tried first
    with reading(client.app.state.container.sessions) as s:
        texts = list(
            s.scalars(select(Message.meta).where(Message.conversation_id == _conversation_of(client, openid)))
        )
    assert any((m.get("image") or {}).get("fields") == {"error_code": "E1023"} for m in texts)


def test_a_slow_picture_is_answered_through_the_api(slow_client, fake_api):
    """The budget is 0 here: the read picture's answer goes out through the customer-service API
    (an anonymous visitor's charge: bind first)."""
    wechat = WeChatServers()
    openid = _openid()
    fake_api.media["MEDIA_SLOW_1"] = draw_lines(
        ["交易详情", "商户：星巴克咖啡", "金额：-¥36.00", "交易时间：2026-11-03 08:15"]
    )
    r = _post(slow_client, wechat.callback(media_xml(openid, "image", "MEDIA_SLOW_1", _msg_id())))
    assert r.status_code == 200 and r.text == "success"
    said = _answer(slow_client, fake_api, wechat, openid, r)
    assert "绑定" in said
