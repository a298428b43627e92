"""The WeChat message crypto against wechatpy (an independent implementation), and the XML rules."""

from __future__ import annotations

import base64

import pytest
from wechatpy.crypto import WeChatCrypto as OracleCrypto
from wechatpy.work.crypto import WeChatCrypto as OracleWorkCrypto

from helixdesk.channels.wechat import xml as wx
from helixdesk.channels.wechat.crypto import MessageCrypto, check_signature, signature
from helixdesk.channels.wechat.errors import (
    WeChatAppIdMismatchError,
    WeChatBadXmlError,
    WeChatDecryptError,
    WeChatSignatureError,
)
from helixdesk.core.errors import ConfigurationError
from tests.wechat_sim import AES_KEY, APP_ID, CORP_ID, TOKEN

MESSAGES = [
    "<xml><Content><![CDATA[我的信用卡账单是多少？]]></Content></xml>",
    "x",
    "a" * 31,
    "b" * 32,
    "é" * 100,
]


@pytest.mark.parametrize("text", MESSAGES)
def test_what_we_encrypt_wechatpy_decrypts_and_back(text):
    ours = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    oracle = OracleCrypto(TOKEN, AES_KEY, APP_ID)
    encrypted = ours.encrypt(text)
    timestamp, nonce = "1409304348", "xxxxxx"
    sig = ours.msg_signature(timestamp, nonce, encrypted)
    envelope = wx.envelope(encrypted=encrypted, signature=sig, timestamp=timestamp, nonce=nonce)
    assert oracle.decrypt_message(envelope, sig, timestamp, nonce) == text

    theirs = wx.parse(oracle.encrypt_message(text, nonce, timestamp))
    ours.check(theirs["MsgSignature"], theirs["TimeStamp"], theirs["Nonce"], theirs["Encrypt"])
    assert ours.decrypt(theirs["Encrypt"]) == text
    # PKCS#7 to 32 bytes: the ciphertext is a whole number of 32-byte blocks.
    assert len(base64.b64decode(encrypted)) % 32 == 0


def test_same_random_same_ciphertext_as_wechatpy():
    ours = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    oracle = OracleCrypto(TOKEN, AES_KEY, APP_ID)
    random = b"0123456789abcdef"
    oracle_prp = __import__("wechatpy.crypto", fromlist=["PrpCrypto"]).PrpCrypto(oracle.key)
    oracle_prp.get_random_string = lambda: random.decode()
    assert ours.encrypt("hello 你好", random=random) == oracle_prp.encrypt("hello 你好", APP_ID).decode()


def test_wecom_echostr_is_decrypted_as_wechatpy_does():
    ours = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=CORP_ID)
    oracle = OracleWorkCrypto(TOKEN, AES_KEY, CORP_ID)
    echostr = ours.encrypt("1616140317555161061")
    sig = ours.msg_signature("1409659813", "1372623149", echostr)
    assert oracle.check_signature(sig, "1409659813", "1372623149", echostr) == "1616140317555161061"
    assert ours.decrypt(echostr) == "1616140317555161061"


def test_another_accounts_message_is_refused():
    other = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id="wxOTHER000000000")
    ours = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    with pytest.raises(WeChatAppIdMismatchError) as e:
        ours.decrypt(other.encrypt("<xml/>"))
    assert e.value.code == "wechat_appid_mismatch"


def test_tampered_signature_and_ciphertext_are_refused():
    ours = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    encrypted = ours.encrypt("<xml/>")
    sig = ours.msg_signature("1", "n", encrypted)
    with pytest.raises(WeChatSignatureError):
        ours.check(sig[:-1] + ("0" if sig[-1] != "0" else "1"), "1", "n", encrypted)
    with pytest.raises(WeChatSignatureError):
        ours.check(sig, "2", "n", encrypted)
    raw = bytearray(base64.b64decode(encrypted))
    raw[-1] ^= 0xFF
    with pytest.raises((WeChatDecryptError, WeChatAppIdMismatchError)):
        ours.decrypt(base64.b64encode(bytes(raw)).decode())
    for bad in ("not base64!", base64.b64encode(b"short").decode(), ""):
        with pytest.raises(WeChatDecryptError):
            ours.decrypt(bad)


def test_signature_is_sha1_of_the_sorted_parts():
    # The example in WeChat's documentation of the URL check.
    assert signature("a", "c", "b") == signature("c", "b", "a")
    assert len(signature(TOKEN, "1", "2")) == 40


def test_bad_aes_keys_are_configuration_errors():
    for key in ("short", "!" * 43):
        with pytest.raises(ConfigurationError) as e:
            MessageCrypto(token=TOKEN, encoding_aes_key=key, app_id=APP_ID)
        assert e.value.code == "wechat_bad_aes_key"


def test_xml_rules():
    with pytest.raises(WeChatBadXmlError):
        wx.parse(b'<!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>')
    with pytest.raises(WeChatBadXmlError):
        wx.parse(b"<xml><A>")
    with pytest.raises(WeChatBadXmlError):
        wx.parse(b"<other/>")
    with pytest.raises(WeChatBadXmlError):
        wx.incoming(wx.parse("<xml><MsgType>text</MsgType></xml>"))
    reply = wx.text_reply(to_user="o1", from_user="gh", create_time=1, content="a]]>b")
    assert wx.parse(reply)["Content"] == "a]]>b"
    event = wx.incoming(
        wx.parse(
            "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>5</CreateTime>"
            "<MsgType>event</MsgType><Event>subscribe</Event></xml>"
        )
    )
    assert event.dedup_key == "wx:o1:5:subscribe" and event.msg_id is None


def test_a_doctype_cannot_hide_in_another_encoding_and_odd_signatures_are_refused():
    hidden = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>'
    with pytest.raises(WeChatBadXmlError):
        wx.parse(hidden.encode("utf-16"))
    with pytest.raises(WeChatBadXmlError):
        wx.parse(b'<?xml version="1.0" encoding="ISO-8859-1"?><xml><A>1</A></xml>')
    assert wx.parse(b'<?xml version="1.0" encoding="UTF-8"?><xml><A>1</A></xml>') == {"A": "1"}
    with pytest.raises(WeChatSignatureError):  # characters outside ASCII: refused, not a crash
        check_signature("签名", TOKEN, "1", "2")
